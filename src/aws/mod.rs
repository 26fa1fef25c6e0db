//! The only module that talks to AWS.
//!
//! [`Session::connect`] loads the shared AWS configuration exactly as the AWS CLI does
//! (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL[_SECRETS_MANAGER|_SSM]`, SSO, `aws login`,
//! `credential_process`, assume-role profiles: all read by `aws-config` itself), with the
//! `--profile`, `--region` and `--endpoint-url` flags on top, and the region chain of
//! `region.rs` (instance metadata last, on EC2 only). Credentials are resolved once,
//! up front, so that "no credentials" is one clear error instead of one per secret, and every
//! regional client shares them.
//!
//! [`Session::fetch_all`] then makes every request at once, within per-API, per-region
//! limits (`Api`): one `BatchGetSecretValue` per twenty current versions of a region
//! (`secrets_manager.rs`; a denial is remembered by `capabilities.rs`), one `GetSecretValue`
//! per other distinct secret version (keys of the same secret share it), one `GetParameters`
//! per ten parameter names per region. Each region gets its own client, because an ARN's
//! region decides where it is read, as on ECS. Results come back keyed by [`FetchKey`]; failures are classified
//! into the spec's error classes with the next step as a hint (`error.rs`).
//!
//! Depends only on core types; nothing here decides what the environment is.

mod capabilities;
mod clients;
mod error;
mod lookups;
pub(crate) mod plan;
mod poll;
mod region;
pub(crate) use region::task_region;
pub(crate) use sources::SourceError;
mod s3;
mod secrets_manager;
mod sources;
mod ssm;
pub(crate) mod task_role;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::Semaphore;

use crate::identity::RoleKind;
use crate::reference::SecretRef;
use crate::resolve::{Failure, FetchKey, Fetched};
use clients::Clients;

/// One request's outcome for each key it covers.
type Job = BoxFuture<'static, Vec<(FetchKey, Result<Fetched, Failure>)>>;

/// The session name AWS CloudTrail records for every request made as an assumed role.
const SESSION_NAME: &str = "ecs-env";

/// A TCP connection that takes longer is a failed attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One attempt of one request that takes longer fails and is retried.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The AWS flags, as the AWS CLI has them.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// The budget for all AWS work, retries included (`--timeout`).
    pub timeout: Duration,
    /// Keep the SDK's refreshing credentials (watch mode runs for hours) instead of pinning
    /// the ones resolved at start.
    pub refresh_credentials: bool,
    /// Read current versions with BatchGetSecretValue, twenty at a time (`--no-batch` turns
    /// it off).
    pub batch: bool,
    /// Open no connection at all: every step that would is a [`ConnectError::Offline`].
    pub offline: bool,
    /// A configuration to use instead of loading the shared one (the library: a test points
    /// it at an emulator). Its region is the task region unless `region` is set.
    pub sdk_config: Option<SdkConfig>,
    /// Fetch values as this execution role (`--as-execution-role`, `--execution-role`)
    /// instead of as the caller; control-plane reads stay on the caller.
    pub execution_role: Option<crate::identity::RoleChoice>,
    /// Give the command this task role's credentials (`--task-role`, `--task-role-arn`).
    pub task_role: Option<crate::identity::RoleChoice>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            profile: None,
            region: None,
            endpoint_url: None,
            timeout: Duration::from_secs(30),
            refresh_credentials: false,
            batch: true,
            offline: false,
            sdk_config: None,
            execution_role: None,
            task_role: None,
        }
    }
}

/// A loaded AWS configuration with resolved credentials.
pub(crate) struct Session {
    config: SdkConfig,
    /// An endpoint is configured (flag or environment): S3 must use path-style addressing.
    custom_endpoint: bool,
    /// Whether to use BatchGetSecretValue.
    batch: bool,
    /// Who is asking, for the capability memory: the access key id (or the role acted as)
    /// and the endpoint.
    access_key_id: String,
    endpoint: String,
    /// The role this session's credentials are for, when it acts as one.
    acting_as: Option<String>,
}

/// Why no request could be made at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("no usable AWS credentials: {detail}")]
    Credentials { detail: String, hint: String },
    #[error("resolving AWS credentials took longer than {0:?} (--timeout)")]
    CredentialsTimeout(Duration),
    #[error("offline: this needs AWS, and no connection may be opened")]
    Offline,
    #[error("{variable} is {problem}")]
    Endpoint {
        variable: &'static str,
        problem: String,
    },
    #[error(
        "could not assume the {noun} `{role}`{caller}: {detail}; {consequence}",
        noun = kind.noun(),
        caller = caller.as_deref().map(|c| format!(" as {c}")).unwrap_or_default(),
        consequence = match kind {
            crate::identity::RoleKind::Execution => "nothing was fetched (not even as the caller)",
            crate::identity::RoleKind::Task => "the command was not started (it would have run with your own credentials)",
        }
    )]
    AssumeRole {
        kind: crate::identity::RoleKind,
        role: String,
        caller: Option<String>,
        detail: String,
    },
}

impl ConnectError {
    pub(crate) fn hint(&self) -> String {
        match self {
            ConnectError::Credentials { hint, .. } => hint.clone(),
            ConnectError::AssumeRole {
                kind, role, caller, ..
            } => crate::identity::assume_role_hint(*kind, role, caller.as_deref()),
            ConnectError::Endpoint { variable, .. } => format!(
                "unset {variable}, or set it to an endpoint URL such as http://127.0.0.1:5000"
            ),
            ConnectError::Offline => {
                "override the secrets this needs (--override / --override-file), or drop --offline"
                    .to_owned()
            }
            ConnectError::CredentialsTimeout(_) => {
                "check the network and the profile's SSO or role settings, or override every \
                 secret with --override / --override-file to run without AWS"
                    .to_owned()
            }
        }
    }
}

impl Session {
    /// The shared configuration, as the AWS CLI loads it, with the flags on top.
    async fn load_shared(
        settings: &Settings,
        timeouts: aws_config::timeout::TimeoutConfig,
    ) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region::chain(settings))
            .timeout_config(timeouts);
        if let Some(profile) = &settings.profile {
            // As in the AWS CLI, `--profile` beats credentials in the environment; the default
            // chain would try AWS_ACCESS_KEY_ID first. The profile provider handles static
            // keys, SSO, credential_process and assume-role chains.
            loader = loader.profile_name(profile).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(profile)
                    .build(),
            );
        }
        if let Some(url) = &settings.endpoint_url {
            // Only when the flag is given: the SDK reads AWS_ENDPOINT_URL and the
            // per-service variables itself, and calling this would override them all.
            loader = loader.endpoint_url(url);
        }
        loader.load().await
    }

    /// Load the configuration and resolve credentials once.
    pub(crate) async fn connect(settings: &Settings) -> Result<Session, ConnectError> {
        let started = Instant::now();
        // Each attempt is bounded so that a server that accepts and never answers is retried
        // (the SDK's standard retry: 3 attempts with backoff) within the overall budget.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .operation_attempt_timeout(ATTEMPT_TIMEOUT.min(settings.timeout))
            .operation_timeout(settings.timeout)
            .build();
        if settings.offline {
            return Err(ConnectError::Offline);
        }
        if settings.sdk_config.is_none() {
            check_endpoint_variables()?;
        }
        let config = match &settings.sdk_config {
            // Given a configuration, only the timeouts and a `region` setting change.
            Some(given) => {
                let mut builder = given.clone().into_builder().timeout_config(timeouts);
                if let Some(region) = &settings.region {
                    builder = builder.region(Region::new(region.clone()));
                }
                builder.build()
            }
            None => Self::load_shared(settings, timeouts).await,
        };
        let Some(provider) = config.credentials_provider() else {
            return Err(ConnectError::Credentials {
                detail: "no credentials provider is configured".to_owned(),
                hint: no_credentials_hint(settings),
            });
        };
        let credentials = tokio::time::timeout(settings.timeout, provider.provide_credentials())
            .await
            .map_err(|_| ConnectError::CredentialsTimeout(settings.timeout))?
            .map_err(|e| {
                let detail = error::chain(&e);
                ConnectError::Credentials {
                    hint: credentials_hint(&detail, settings),
                    detail,
                }
            })?;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            region = ?config.region().map(|r| r.as_ref().to_owned()),
            "loaded AWS configuration and credentials"
        );
        // Every regional client shares the credentials resolved once above. A run lasts
        // seconds, well inside any credential's lifetime; watch mode keeps the SDK's provider,
        // which refreshes them.
        let access_key_id = credentials.access_key_id().to_owned();
        let config = if settings.refresh_credentials {
            config
        } else {
            config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .build()
        };
        let given_endpoint = config.endpoint_url().map(str::to_owned);
        let custom_endpoint = settings.endpoint_url.is_some()
            || given_endpoint.is_some()
            || ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        let endpoint = settings
            .endpoint_url
            .clone()
            .or(given_endpoint)
            .or_else(|| {
                ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"]
                    .iter()
                    .find_map(|v| std::env::var(v).ok().filter(|v| !v.is_empty()))
            })
            .unwrap_or_default();
        Ok(Session {
            config,
            custom_endpoint,
            batch: settings.batch,
            access_key_id,
            endpoint,
            acting_as: None,
        })
    }

    /// A session for the value fetches that acts as `role` (STS AssumeRole with this
    /// session's credentials). Fail closed: when the role cannot be assumed, the error says
    /// why and how to allow it, and no request is made as the caller instead.
    pub(crate) async fn assume(
        &self,
        role: &str,
        settings: &Settings,
        task_region: Option<&str>,
    ) -> Result<Session, ConnectError> {
        let (provider, credentials) = self
            .role_provider(RoleKind::Execution, role, settings, task_region)
            .await?;
        let provider = if settings.refresh_credentials {
            // Watch mode runs for hours: the provider assumes the role again before expiry.
            SharedCredentialsProvider::new(provider)
        } else {
            SharedCredentialsProvider::new(credentials)
        };
        Ok(Session {
            config: self
                .config
                .clone()
                .into_builder()
                .credentials_provider(provider)
                .build(),
            custom_endpoint: self.custom_endpoint,
            batch: self.batch,
            // Temporary keys change on every run; what is denied belongs to the role.
            access_key_id: role.to_owned(),
            endpoint: self.endpoint.clone(),
            acting_as: Some(role.to_owned()),
        })
    }

    /// The task role's credentials for the command (`--task-role`), assumed once now so that
    /// a role that cannot be assumed stops the run before the command starts, then again
    /// whenever fewer than [`task_role::MIN_REMAINING`] are left.
    pub(crate) async fn task_role(
        &self,
        role: &str,
        settings: &Settings,
        task_region: Option<&str>,
    ) -> Result<task_role::TaskRole, ConnectError> {
        let (provider, credentials) = self
            .role_provider(RoleKind::Task, role, settings, task_region)
            .await?;
        Ok(task_role::TaskRole::new(role, provider, credentials))
    }

    /// An AssumeRole provider for `role`, with its first credentials.
    async fn role_provider(
        &self,
        kind: RoleKind,
        role: &str,
        settings: &Settings,
        task_region: Option<&str>,
    ) -> Result<(AssumeRoleProvider, Credentials), ConnectError> {
        let started = Instant::now();
        // STS answers in every region; the task region keeps the call regional.
        let region = self
            .config
            .region()
            .map(|r| r.as_ref().to_owned())
            .or_else(|| task_region.map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let provider = AssumeRoleProvider::builder(role)
            .session_name(SESSION_NAME)
            // One hour is STS's default, and its cap when the caller is itself a role
            // session (role chaining): asking for more would fail for those callers.
            .session_length(task_role::SESSION_LENGTH)
            .region(Region::new(region))
            .configure(&self.config)
            .build()
            .await;
        let credentials = tokio::time::timeout(settings.timeout, provider.provide_credentials())
            .await
            .map_err(|_| ConnectError::CredentialsTimeout(settings.timeout))?;
        match credentials {
            Ok(credentials) => {
                tracing::debug!(
                    role = %crate::diagnostic::escaped(role),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "assumed the {}", kind.noun()
                );
                Ok((provider, credentials))
            }
            Err(e) => {
                // Who asked, for the trust-policy statement; unknown if that fails too.
                let caller = self.identity().await.ok().map(|i| i.arn);
                Err(ConnectError::AssumeRole {
                    kind,
                    role: role.to_owned(),
                    caller,
                    detail: error::assume_role_detail(&e),
                })
            }
        }
    }

    /// The role this session acts as, if any.
    pub(crate) fn acting_as(&self) -> Option<&str> {
        self.acting_as.as_deref()
    }

    /// Fetch every key concurrently, as [`plan::requests`] says. Every key gets an entry: a
    /// value or a classified failure.
    pub(crate) async fn fetch_all(
        &self,
        fetches: &[FetchKey],
        task_region: Option<&str>,
    ) -> HashMap<FetchKey, Result<Fetched, Failure>> {
        let started = Instant::now();
        // An identity known to lack BatchGetSecretValue goes straight to GetSecretValue
        // instead of failing a round trip first; the memory is read only where a batch
        // would be used.
        let wanted = if self.batch {
            plan::batch_regions(fetches)
        } else {
            BTreeSet::new()
        };
        let memory = (!wanted.is_empty())
            .then(|| capabilities::Memory::load(&[&self.access_key_id, &self.endpoint]));
        let denied: BTreeSet<String> = wanted
            .iter()
            .filter(|r| memory.as_ref().is_some_and(|m| m.batch_denied(r)))
            .cloned()
            .collect();
        for region in &denied {
            tracing::debug!(region = %crate::diagnostic::escaped(region), "BatchGetSecretValue was denied to this identity within a day: using GetSecretValue");
        }

        let mut secrets: Clients<aws_sdk_secretsmanager::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        let mut parameters: Clients<aws_sdk_ssm::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        let mut buckets: Clients<aws_sdk_s3::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        let mut limits = Limits::default();
        let mut jobs: Vec<Job> = Vec::new();
        let mut unavailable: BTreeMap<String, Arc<AtomicBool>> = BTreeMap::new();
        for request in plan::requests(fetches, self.batch, &denied) {
            match request {
                plan::Request::Secret(version) => {
                    let client = secrets.get(&version.region);
                    jobs.push(Box::pin(limited(
                        limits.get(Api::GetSecretValue, &version.region),
                        secrets_manager::fetch(client, version),
                    )));
                }
                plan::Request::SecretBatch { region, versions } => {
                    let flag = unavailable.entry(region.clone()).or_default().clone();
                    jobs.push(Box::pin(secrets_manager::fetch_batch(
                        secrets_manager::Batch {
                            client: secrets.get(&region),
                            batch_permits: limits.get(Api::BatchGetSecretValue, &region),
                            single_permits: limits.get(Api::GetSecretValue, &region),
                            region,
                            versions,
                            unavailable: flag,
                        },
                    )));
                }
                plan::Request::Parameters { region, names } => {
                    jobs.push(Box::pin(limited(
                        limits.get(Api::GetParameters, &region),
                        ssm::fetch_batch(
                            parameters.get(&region),
                            secrets.get(&region),
                            region,
                            names,
                        ),
                    )));
                }
                plan::Request::File { arn, object } => {
                    // Any region answers GetBucketLocation; the task region is the likely one.
                    let locator = buckets.get(task_region.unwrap_or("us-east-1"));
                    let mut regional: Clients<aws_sdk_s3::Client> =
                        Clients::new(&self.config, self.custom_endpoint);
                    jobs.push(Box::pin(limited(
                        limits.get(Api::S3, "*"),
                        s3::fetch(locator, move |region| regional.get(region), arn, object),
                    )));
                }
            }
        }
        let jobs_started = jobs.len();
        let mut results: HashMap<_, _> = jobs
            .into_iter()
            .collect::<futures_util::stream::FuturesUnordered<_>>()
            .flat_map(futures_util::stream::iter)
            .collect()
            .await;
        let newly_denied: Vec<String> = unavailable
            .into_iter()
            .filter(|(_, flag)| flag.load(Ordering::Relaxed))
            .map(|(region, _)| region)
            .collect();
        if let (Some(mut memory), false) = (memory, newly_denied.is_empty()) {
            memory.remember_batch_denied(&newly_denied);
        }
        if let Some(role) = &self.acting_as {
            for failure in results.values_mut().filter_map(|r| r.as_mut().err()) {
                error::as_role(failure, role);
            }
        }
        tracing::debug!(
            jobs = jobs_started,
            values = results.len(),
            task_region,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "fetched all references"
        );
        results
    }
}

/// The APIs whose requests in flight are limited, each per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Api {
    GetSecretValue,
    BatchGetSecretValue,
    GetParameters,
    S3,
}

impl Api {
    /// Requests in flight at once. Every request of a large task definition should be in the
    /// first wave, within each API's default rate quota per region: GetSecretValue 10,000 per
    /// second, BatchGetSecretValue 100 (32 batches are 640 secrets), GetParameters 40 at
    /// standard throughput. One connection per request in flight, so this also bounds
    /// sockets.
    fn in_flight(self) -> usize {
        match self {
            Api::GetSecretValue => 128,
            Api::BatchGetSecretValue => 32,
            Api::GetParameters => 20,
            Api::S3 => 16,
        }
    }
}

/// One semaphore per API and region.
#[derive(Default)]
struct Limits(HashMap<(Api, String), Arc<Semaphore>>);

impl Limits {
    fn get(&mut self, api: Api, region: &str) -> Arc<Semaphore> {
        self.0
            .entry((api, region.to_owned()))
            .or_insert_with(|| Arc::new(Semaphore::new(api.in_flight())))
            .clone()
    }
}

/// Run `job` while holding one of `permits`.
async fn limited<F: Future>(permits: Arc<Semaphore>, job: F) -> F::Output {
    // The semaphore is never closed, so acquiring cannot fail; without a permit the job
    // would still be correct, only less bounded.
    let _permit = permits.acquire().await.ok();
    job.await
}

/// The profile credentials come from: `--profile`, else `AWS_PROFILE`, else `default`.
fn profile_name(settings: &Settings) -> String {
    settings
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".to_owned())
}

/// `aws login` first: console credentials (a `login_session` profile) are what the AWS CLI
/// now offers anyone who can sign in to the console.
fn no_credentials_hint(settings: &Settings) -> String {
    let profile = profile_name(settings);
    format!(
        "log in with `aws login --profile {profile}` (or `aws sso login --profile {profile}`, \
         or `aws configure`), set AWS_PROFILE, or override every secret with --override / \
         --override-file to run without AWS"
    )
}

/// A `login_session` profile (`aws login`) failed: aws-config's errors name its cached
/// "Login token", except a missing one, which is only "failed to read `PATH`", a path in the
/// login cache (`~/.aws/login/cache`, or `AWS_LOGIN_CACHE_DIRECTORY`).
fn login_session_failed(detail: &str) -> bool {
    let cache = std::env::var("AWS_LOGIN_CACHE_DIRECTORY")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            let default = std::path::Path::new(".aws").join("login").join("cache");
            default.display().to_string()
        });
    detail.contains("Login token") || detail.contains(&cache)
}

fn credentials_hint(detail: &str, settings: &Settings) -> String {
    let p = profile_name(settings);
    if login_session_failed(detail) {
        format!(
            "the console login session has expired or was never started: run `aws login \
             --profile {p}`"
        )
    } else if detail.contains("SSO") || detail.contains("sso") {
        format!(
            "the SSO session has expired or was never started: run `aws sso login --profile {p}`"
        )
    } else if detail.contains("mfa") || detail.contains("MFA") {
        "the Rust AWS SDK cannot prompt for MFA: run through `aws-vault exec PROFILE -- ecs-env ...` \
         or give the profile a `credential_process`"
            .to_owned()
    } else {
        no_credentials_hint(settings)
    }
}

impl Session {
    /// The caller's identity for a source that needs the account (`AWS::AccountId`,
    /// `data.aws_caller_identity`) and was not given `--account`. `None` when STS cannot say
    /// (logged at `-v`): what stays unresolved then names `--account`, the way out.
    pub(crate) async fn identity_for_source(&self) -> Option<Identity> {
        self.identity()
            .await
            .inspect_err(|e| {
                tracing::debug!(error = %crate::diagnostic::escaped(e), "sts:GetCallerIdentity failed; the account stays unknown");
            })
            .ok()
    }

    /// The ARN of the identity in use (`sts:GetCallerIdentity`), for `check`'s report and
    /// for the account of bare parameter names in `policy`.
    pub(crate) async fn identity(&self) -> Result<Identity, String> {
        let mut conf = aws_sdk_sts::config::Builder::from(&self.config);
        if self.config.region().is_none() {
            // STS answers in every region; without a configured one, use the global default.
            conf = conf.region(Region::new("us-east-1"));
        }
        let client = aws_sdk_sts::Client::from_conf(conf.build());
        let out = client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| error::classify(&e).message)?;
        Ok(Identity {
            arn: out.arn().unwrap_or_default().to_owned(),
            account: out.account().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }

    /// Customer-managed KMS keys protecting these secrets and parameters, from
    /// `DescribeSecret` and `DescribeParameters`. AWS-managed keys (`alias/aws/...`) need no
    /// grant and are left out. Lookups that fail are returned as notes, not errors: the
    /// policy is still right for everything else.
    pub(crate) async fn kms_keys(
        &self,
        references: &[SecretRef],
        task_region: Option<&str>,
        account: Option<&str>,
    ) -> (Vec<String>, Vec<String>) {
        let mut keys = Vec::new();
        let mut notes = Vec::new();
        let mut secrets: Clients<aws_sdk_secretsmanager::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        let mut parameters: Clients<aws_sdk_ssm::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        for r in references {
            match r {
                SecretRef::SecretsManager(s) => {
                    let client = secrets.get(&s.region);
                    match client.describe_secret().secret_id(&s.secret_id).send().await {
                        Ok(out) => {
                            if let Some(k) = out.kms_key_id() {
                                keys.push(key_arn(k, &s.partition, &s.region, &s.account));
                            }
                        }
                        Err(e) => notes.push(format!(
                            "could not read the KMS key of `{}` (secretsmanager:DescribeSecret): {}",
                            s.secret_id,
                            error::classify(&e).message
                        )),
                    }
                }
                SecretRef::Parameter(p) => {
                    let Some(region) = p.region.as_deref().or(task_region) else {
                        continue;
                    };
                    let client = parameters.get(region);
                    let name = crate::reference::canonical_parameter_name(&p.name);
                    let name = if name.contains('/') || p.name.starts_with('/') {
                        format!("/{}", name.trim_start_matches('/'))
                    } else {
                        name
                    };
                    let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
                        .key("Name")
                        .option("Equals")
                        .values(name.clone())
                        .build();
                    let Ok(filter) = filter else { continue };
                    match client
                        .describe_parameters()
                        .parameter_filters(filter)
                        .send()
                        .await
                    {
                        Ok(out) => {
                            for meta in out.parameters() {
                                if let Some(k) = meta.key_id() {
                                    let account =
                                        p.account.as_deref().or(account).unwrap_or_default();
                                    keys.push(key_arn(
                                        k,
                                        crate::policy::partition_of(region),
                                        region,
                                        account,
                                    ));
                                }
                            }
                        }
                        Err(e) => notes.push(format!(
                            "could not read the KMS key of `{}` (ssm:DescribeParameters): {}",
                            p.name,
                            error::classify(&e).message
                        )),
                    }
                }
            }
        }
        // AWS-managed keys need no grant. A customer key recorded by alias cannot be granted
        // by its alias: IAM evaluates kms:Decrypt against the key's ARN.
        keys.retain(|k| !k.contains(":alias/aws/") && !k.starts_with("alias/aws/"));
        keys.retain(|k| {
            let alias = k.contains(":alias/");
            if alias {
                notes.push(format!(
                    "a secret or parameter is encrypted with the key alias `{k}`; IAM cannot grant \
                     kms:Decrypt by alias: pass the key's ARN with --kms-key"
                ));
            }
            !alias
        });
        keys.sort();
        keys.dedup();
        (keys, notes)
    }
}

/// The caller's identity.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

/// A KMS key reference as an ARN: a bare key id is qualified with the secret's region and
/// account.
fn key_arn(key: &str, partition: &str, region: &str, account: &str) -> String {
    if key.starts_with("arn:") {
        key.to_owned()
    } else {
        let resource = if key.starts_with("alias/") {
            key.to_owned()
        } else {
            format!("key/{key}")
        };
        crate::arn::build(partition, "kms", region, account, &resource)
    }
}

/// The endpoint variables the SDK reads for the services ecs-env calls. An empty or malformed
/// one made the SDK panic; it is an error naming the variable instead.
const ENDPOINT_VARIABLES: [&str; 7] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
];

fn check_endpoint_variables() -> Result<(), ConnectError> {
    for variable in ENDPOINT_VARIABLES {
        let Some(value) = std::env::var_os(variable) else {
            continue;
        };
        let problem = match value.to_str() {
            None => Some("not UTF-8".to_owned()),
            Some(url) => endpoint_problem(url),
        };
        if let Some(problem) = problem {
            return Err(ConnectError::Endpoint { variable, problem });
        }
    }
    Ok(())
}

/// What is wrong with an endpoint URL, if anything: it must be `http://` or `https://` and a
/// host. The URL itself is not repeated (it may carry credentials).
pub(crate) fn endpoint_problem(url: &str) -> Option<String> {
    if url.is_empty() {
        return Some("set but empty".to_owned());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        None => Some("not an http:// or https:// URL".to_owned()),
        Some(rest) if rest.split(['/', '?', '#']).next().is_none_or(str::is_empty) => {
            Some("a URL without a host".to_owned())
        }
        Some(rest) if rest.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Some("a URL with whitespace or control characters".to_owned())
        }
        Some(_) => None,
    }
}

/// A [`Session`] connected on first use: sources and fetches share one, and a run that needs
/// no AWS call resolves no credentials.
pub(crate) struct LazySession<'a> {
    settings: &'a Settings,
    session: Option<Session>,
    /// The session acting as the execution role, once assumed.
    role: Option<Session>,
}

impl<'a> LazySession<'a> {
    pub(crate) fn new(settings: &'a Settings) -> Self {
        LazySession {
            settings,
            session: None,
            role: None,
        }
    }

    /// The settings this session connects with.
    pub(crate) fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The session values are fetched with: the caller's, or one acting as `role` (assumed
    /// once, on first use).
    pub(crate) async fn for_values(
        &mut self,
        role: Option<&str>,
        task_region: Option<&str>,
    ) -> Result<&Session, ConnectError> {
        let Some(role) = role else {
            return self.get().await;
        };
        if self.role.as_ref().and_then(Session::acting_as) != Some(role) {
            let settings = self.settings;
            let assumed = self
                .get()
                .await?
                .assume(role, settings, task_region)
                .await?;
            self.role = Some(assumed);
        }
        Ok(self.role.as_ref().expect("assumed just above"))
    }

    /// Whether no connection may be opened (`--offline`, the library's `offline()`).
    pub(crate) fn is_offline(&self) -> bool {
        self.settings.offline
    }

    pub(crate) async fn get(&mut self) -> Result<&Session, ConnectError> {
        if self.session.is_none() {
            self.session = Some(Session::connect(self.settings).await?);
        }
        Ok(self.session.as_ref().expect("connected just above"))
    }
}
