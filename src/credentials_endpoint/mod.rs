//! `--task-role`: give the command the task role's credentials the way ECS does, through a
//! container credentials endpoint, instead of the developer's own.
//!
//! # Theory of operation
//!
//! On ECS the agent serves each task its task role's credentials at a link-local address and
//! points the container at them (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`). Locally ecs-env
//! plays the agent: [`Endpoint::bind`] listens on 127.0.0.1, on a port the kernel picks, and
//! answers one random path, and only requests carrying a random token; [`server`] answers
//! them with credentials the AWS layer keeps fresh (`aws::task_role`). Listening on loopback
//! is what makes this work inside a container too, as a compose entrypoint: the endpoint is
//! on the container's own loopback, where the command is.
//!
//! The command's SDK must really use the endpoint, and every SDK looks at environment keys,
//! web identity and profiles *before* container credentials. So:
//! - before the merge, the variables in [`CALLER_CREDENTIALS`] are removed from what the
//!   command inherits ([`strip_inherited`]); `--preserve-env` cannot keep them, since they
//!   are no longer inherited;
//! - after the merge, [`point_child_at`] sets `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//!   `AWS_CONTAINER_AUTHORIZATION_TOKEN`, removes the relative URI and token file (ECS
//!   replaces the first, and the second would win over the token), points
//!   `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` at `/dev/null` unless the task
//!   definition sets them (a container has no `~/.aws`), and adds 127.0.0.1 to `NO_PROXY`
//!   (and `no_proxy` where set) so that a proxy never sees the request.
//!
//! A credential variable the *task definition* sets stays, as on ECS, where the SDK would use
//! it before the task role too; that gets a warning naming it.
//!
//! The endpoint must outlive ecs-env's own work, so this mode supervises the command
//! (`process::supervise`) instead of exec'ing it.

pub(crate) mod server;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;

use tokio::net::TcpListener;
use zeroize::Zeroizing;

use crate::resolve::ChildEnv;
use crate::secret::SecretValue;

/// Inherited variables that make an SDK use the caller's identity before container
/// credentials (keys, profiles and their files, web identity, another endpoint).
pub(crate) const CALLER_CREDENTIALS: [&str; 17] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CREDENTIAL_PROFILES_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// Set by [`point_child_at`], whatever the task definition says.
const ENDPOINT_VARIABLES: [&str; 2] = [
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// Removed by [`point_child_at`], whatever the task definition says: ECS overwrites the
/// relative URI with its own, and a token file would win over the token.
const REPLACED: [&str; 2] = [
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// Pointed at an empty file unless the task definition sets them.
const PROFILE_FILES: [&str; 2] = ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"];

/// The empty file the profile variables point at.
const EMPTY_FILE: &str = "/dev/null";

/// Remove the caller's credential variables from what the command inherits; the names
/// removed, for `-v`.
pub(crate) fn strip_inherited(base: &mut BTreeMap<OsString, OsString>) -> Vec<&'static str> {
    CALLER_CREDENTIALS
        .into_iter()
        .chain(REPLACED)
        .filter(|name| base.remove(&OsString::from(name)).is_some())
        .collect()
}

/// Point the command's SDKs at the endpoint; warnings for what the task definition sets
/// that the SDKs would use first.
pub(crate) fn point_child_at(env: &mut ChildEnv, url: &str, token: &SecretValue) -> Vec<String> {
    let mut warnings = Vec::new();
    for name in CALLER_CREDENTIALS {
        if env.set_by_task(name)
            && !ENDPOINT_VARIABLES.contains(&name)
            && !REPLACED.contains(&name)
            && !PROFILE_FILES.contains(&name)
        {
            warnings.push(format!(
                "--task-role: the task definition sets `{name}`, and the command's AWS SDK uses \
                 it before the task role's endpoint (as it would on ECS)"
            ));
        }
    }
    for name in REPLACED {
        env.remove(name);
    }
    env.set_own(ENDPOINT_VARIABLES[0], SecretValue::new(url.to_owned()));
    env.set_own(ENDPOINT_VARIABLES[1], token.clone());
    for name in PROFILE_FILES {
        if !env.set_by_task(name) {
            env.set_own(name, SecretValue::new(EMPTY_FILE.to_owned()));
        }
    }
    for name in ["NO_PROXY", "no_proxy"] {
        let current = env.value(name).map(|v| v.to_string_lossy().into_owned());
        if name == "no_proxy" && current.is_none() {
            continue;
        }
        let listed = current
            .as_deref()
            .is_some_and(|v| v.split(',').any(|h| h.trim() == "127.0.0.1"));
        if !listed {
            let value = match current.as_deref() {
                None | Some("") => "127.0.0.1".to_owned(),
                Some(v) => format!("{v},127.0.0.1"),
            };
            env.set_own(name, SecretValue::new(value));
        }
    }
    warnings
}

/// A bound endpoint, not yet serving.
pub(crate) struct Endpoint {
    listener: TcpListener,
    path: Arc<str>,
    token: Arc<Zeroizing<String>>,
    /// `http://127.0.0.1:PORT/PATH`. The path is a secret of sorts (with the token, it is
    /// what a local process needs): log only the port.
    pub(crate) url: String,
    pub(crate) port: u16,
}

impl Endpoint {
    /// Listen on 127.0.0.1 on a port the kernel picks, with a fresh random path and token.
    pub(crate) async fn bind() -> std::io::Result<Endpoint> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let path: Arc<str> = format!("/ecs-env/{}", random_hex(16)?.as_str()).into();
        Ok(Endpoint {
            url: format!("http://127.0.0.1:{port}{path}"),
            port,
            listener,
            path,
            token: Arc::new(random_hex(32)?),
        })
    }

    /// The token the command sends back.
    pub(crate) fn token(&self) -> SecretValue {
        SecretValue::new(self.token.as_str().to_owned())
    }

    /// Serve `documents` until the runtime stops.
    pub(crate) async fn serve<D: server::Documents>(self, documents: Arc<D>) {
        server::serve(self.listener, self.path, self.token, documents).await;
    }
}

/// `bytes` random bytes from the operating system, as hex.
fn random_hex(bytes: usize) -> std::io::Result<Zeroizing<String>> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    aws_lc_rs::rand::fill(&mut raw)
        .map_err(|_| std::io::Error::other("the operating system gave no random bytes"))?;
    Ok(Zeroizing::new(
        raw.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(vars: &[(&str, &str)]) -> BTreeMap<OsString, OsString> {
        vars.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn the_callers_credentials_are_not_inherited() {
        let mut inherited = base(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_PROFILE", "dev"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/t"),
            ("AWS_REGION", "eu-west-1"),
            ("PATH", "/bin"),
        ]);
        let removed = strip_inherited(&mut inherited);
        assert_eq!(
            removed,
            [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_PROFILE",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
            ]
        );
        assert_eq!(
            inherited,
            base(&[("AWS_REGION", "eu-west-1"), ("PATH", "/bin")])
        );
    }

    fn child(inherited: &[(&str, &str)], task: &[(&str, &str)]) -> ChildEnv {
        let local = crate::resolve::Local {
            base: base(inherited),
            task_region: Some("us-east-1".into()),
            ..Default::default()
        };
        let evaluated = task
            .iter()
            .map(|(k, v)| crate::resolve::Evaluated {
                name: (*k).to_owned(),
                origin: crate::resolve::Origin::Environment,
                reference: None,
                status: crate::resolve::Status::Value(
                    SecretValue::new((*v).to_owned()),
                    Vec::new(),
                ),
            })
            .collect();
        crate::resolve::assemble(evaluated, &local).unwrap()
    }

    fn vars(env: &ChildEnv) -> BTreeMap<String, String> {
        env.iter()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn the_command_is_pointed_at_the_endpoint() {
        let mut env = child(
            &[("PATH", "/bin"), ("AWS_REGION", "eu-west-1")],
            &[("APP", "1")],
        );
        let warnings = point_child_at(
            &mut env,
            "http://127.0.0.1:4000/ecs-env/p",
            &SecretValue::new("tok".into()),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            vars(&env),
            [
                ("APP", "1"),
                ("AWS_CONFIG_FILE", "/dev/null"),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"),
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://127.0.0.1:4000/ecs-env/p"
                ),
                ("AWS_REGION", "eu-west-1"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
                ("NO_PROXY", "127.0.0.1"),
                ("PATH", "/bin"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
        );
    }

    #[test]
    fn what_the_task_definition_sets_stays_as_on_ecs() {
        let mut env = child(
            &[
                ("no_proxy", "localhost"),
                ("NO_PROXY", "localhost,127.0.0.1"),
            ],
            &[
                ("AWS_ACCESS_KEY_ID", "from-task"),
                ("AWS_CONFIG_FILE", "/app/aws-config"),
                (
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                    "/v2/credentials/x",
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "task-token"),
            ],
        );
        let warnings = point_child_at(
            &mut env,
            "http://127.0.0.1:4000/p",
            &SecretValue::new("tok".into()),
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`AWS_ACCESS_KEY_ID`"), "{warnings:?}");
        let vars = vars(&env);
        assert_eq!(vars["AWS_ACCESS_KEY_ID"], "from-task");
        assert_eq!(vars["AWS_CONFIG_FILE"], "/app/aws-config");
        assert_eq!(vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"], "tok");
        assert!(!vars.contains_key("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
        assert_eq!(vars["NO_PROXY"], "localhost,127.0.0.1");
        assert_eq!(vars["no_proxy"], "localhost,127.0.0.1");
    }

    #[test]
    fn paths_and_tokens_are_fresh_random_hex() {
        let a = random_hex(32).unwrap();
        let b = random_hex(32).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(*a, *b);
    }
}
