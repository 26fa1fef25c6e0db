//! `BatchGetSecretValue`: current versions twenty at a time, the same values and failures
//! as one `GetSecretValue` each, and a denial remembered so that it costs one round trip per
//! day instead of one per run.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::emulator::{emulator, unique};
use crate::proxy::{Fault, Proxy, Request};
use crate::util::{ecs_env, empty_dir, task_definition};

const REGION: &str = "us-east-1";

/// (variable, reference) or (variable, value).
type Pairs = Vec<(String, String)>;

/// `count` secrets `S00..`, referenced in turn by complete and partial ARN (a bare name
/// would be a Parameter Store name); the expected values by variable.
fn secrets(count: usize) -> (Pairs, Pairs) {
    let e = emulator();
    let mut refs = Vec::new();
    let mut want = Vec::new();
    for i in 0..count {
        let name = unique(&format!("batch/s{i:02}"));
        let value = format!("value-{i}-{name}");
        let arn = e.create_secret(REGION, &name, &value);
        let reference = match i % 2 {
            0 => arn.clone(),
            _ => arn[..arn.len() - 7].to_owned(),
        };
        refs.push((format!("S{i:02}"), reference));
        want.push((format!("S{i:02}"), value));
    }
    (refs, want)
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// The ids of each BatchGetSecretValue call, sorted by size.
fn batch_sizes(calls: &[Request]) -> Vec<usize> {
    let mut sizes: Vec<usize> = calls
        .iter()
        .map(|r| r.body["SecretIdList"].as_array().map_or(0, Vec::len))
        .collect();
    sizes.sort_unstable();
    sizes
}

#[test]
fn current_versions_are_fetched_twenty_at_a_time() {
    let (mut refs, mut want) = secrets(45);
    // A pinned stage cannot be batched: it keeps its own GetSecretValue.
    let e = emulator();
    let rotated = unique("batch/rotated");
    let arn = e.create_secret(REGION, &rotated, "old");
    e.put_secret_value(REGION, &arn, "new", "22222222-2222-2222-2222-222222222222");
    refs.push(("PREVIOUS".into(), format!("{arn}::AWSPREVIOUS:")));
    want.push(("PREVIOUS".into(), "old".into()));

    let proxy = Proxy::start(&e.endpoint, vec![]);
    let env = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .task_definition(&task_definition(&[], &as_refs(&refs)))
        .child_env();
    for (name, value) in &want {
        env.assert(name, value);
    }
    assert_eq!(
        batch_sizes(&proxy.calls("BatchGetSecretValue")),
        [5, 20, 20]
    );
    let singles = proxy.calls("GetSecretValue");
    assert_eq!(singles.len(), 1, "only the pinned version is fetched alone");
    assert_eq!(singles[0].body["VersionStage"], "AWSPREVIOUS");
}

#[test]
fn one_secret_in_a_region_is_not_batched() {
    let (refs, want) = secrets(1);
    let proxy = Proxy::start(&emulator().endpoint, vec![]);
    let env = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .task_definition(&task_definition(&[], &as_refs(&refs)))
        .child_env();
    env.assert(&want[0].0, &want[0].1);
    assert!(proxy.calls("BatchGetSecretValue").is_empty());
    assert_eq!(proxy.calls("GetSecretValue").len(), 1);
}

#[test]
fn no_batch_makes_one_request_per_secret_as_the_agent_does() {
    let (refs, want) = secrets(5);
    for flag in [Some("--no-batch"), None] {
        let proxy = Proxy::start(&emulator().endpoint, vec![]);
        let mut run = ecs_env().env("AWS_ENDPOINT_URL", &proxy.endpoint);
        run = match flag {
            Some(f) => run.arg(f),
            None => run.env("ECS_ENV_NO_BATCH", "1"),
        };
        let env = run
            .task_definition(&task_definition(&[], &as_refs(&refs)))
            .child_env();
        for (name, value) in &want {
            env.assert(name, value);
        }
        assert!(proxy.calls("BatchGetSecretValue").is_empty(), "{flag:?}");
        assert_eq!(proxy.calls("GetSecretValue").len(), 5, "{flag:?}");
    }
}

#[test]
fn a_secret_the_batch_cannot_return_fails_exactly_as_without_batching() {
    let (mut refs, _) = secrets(3);
    let live = &refs[0].1;
    let missing = format!("{}gone-AbCdEf", &live[..live.rfind(':').unwrap() + 1]);
    refs.push(("GONE".into(), missing.clone()));
    let td = task_definition(&[], &as_refs(&refs));

    let proxy = Proxy::start(&emulator().endpoint, vec![]);
    let batched = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .task_definition(&td)
        .args(["--", "true"])
        .output();
    batched.assert_code(125);
    assert_eq!(batch_sizes(&proxy.calls("BatchGetSecretValue")), [4]);
    // Only the one the batch reported as an error is asked again, the agent's way.
    let singles = proxy.calls("GetSecretValue");
    assert_eq!(singles.len(), 1);
    assert_eq!(singles[0].body["SecretId"], missing.as_str());

    let alone = ecs_env()
        .arg("--no-batch")
        .task_definition(&td)
        .args(["--", "true"])
        .output();
    alone.assert_code(125);
    assert_eq!(
        batched.stderr(),
        alone.stderr(),
        "the same report either way"
    );
    assert!(batched.stderr().contains("GONE"));
    assert!(!batched.stderr().contains("S00"), "{}", batched.stderr());
}

fn denied() -> Fault {
    Fault {
        api: "BatchGetSecretValue",
        status: 400,
        code: "AccessDeniedException",
        message: "User: arn:aws:sts::123456789012:assumed-role/exec/x is not authorized to \
                  perform: secretsmanager:BatchGetSecretValue because no identity-based policy \
                  allows the secretsmanager:BatchGetSecretValue action"
            .into(),
        ..Default::default()
    }
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_denied_batch_falls_back_and_is_remembered_for_that_identity() {
    let (refs, want) = secrets(4);
    let td = task_definition(&[], &as_refs(&refs));
    let home = empty_dir();
    let proxy = Proxy::start(&emulator().endpoint, vec![denied()]);
    let run = |access_key: &str| {
        let before = (
            proxy.calls("BatchGetSecretValue").len(),
            proxy.calls("GetSecretValue").len(),
        );
        let env = ecs_env()
            .env("HOME", &home)
            .env("AWS_ACCESS_KEY_ID", access_key)
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .task_definition(&td)
            .child_env();
        for (name, value) in &want {
            env.assert(name, value);
        }
        (
            proxy.calls("BatchGetSecretValue").len() - before.0,
            proxy.calls("GetSecretValue").len() - before.1,
        )
    };

    // The first run pays the denied batch, then fetches each secret alone.
    assert_eq!(run("AKIAFIRSTIDENTITY"), (1, 4));
    // The next runs with that identity go straight to GetSecretValue.
    assert_eq!(run("AKIAFIRSTIDENTITY"), (0, 4));
    assert_eq!(run("AKIAFIRSTIDENTITY"), (0, 4));
    // Another identity may have the permission: it tries once.
    assert_eq!(run("AKIASECONDIDENTITY"), (1, 4));

    // What is remembered is one private file that names neither the identity nor a secret.
    let stored = files(&home);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let file = &stored[0];
    assert!(
        file.ends_with(".cache/ecs-env/capabilities.json"),
        "{file:?}"
    );
    assert_eq!(
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(file).unwrap();
    for (name, value) in &want {
        assert!(!text.contains(value.as_str()), "value of {name} stored");
    }
    for (_, reference) in &refs {
        assert!(!text.contains(reference.as_str()), "{reference} stored");
    }
    assert!(!text.contains("AKIA"), "access key id stored: {text}");
}

#[test]
fn a_batch_that_fails_for_another_reason_falls_back_without_remembering() {
    let (refs, want) = secrets(3);
    let td = task_definition(&[], &as_refs(&refs));
    let home = empty_dir();
    let cache = home.join("cache-here");
    let fault = Fault {
        status: 500,
        code: "InternalServiceError",
        ..denied()
    };
    let proxy = Proxy::start(&emulator().endpoint, vec![fault]);
    for _ in 0..2 {
        let env = ecs_env()
            .env("ECS_ENV_CACHE_DIR", &cache)
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .task_definition(&td)
            .child_env();
        for (name, value) in &want {
            env.assert(name, value);
        }
    }
    // Each run tried the batch (with the SDK's retries) and then fetched each secret alone.
    assert_eq!(proxy.calls("BatchGetSecretValue").len(), 2 * 3);
    assert_eq!(proxy.calls("GetSecretValue").len(), 2 * 3);
    assert!(files(&cache).is_empty(), "nothing to remember");
}
