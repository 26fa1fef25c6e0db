//! AWS misbehaving: the fault-injecting proxy in front of the emulator, and dead endpoints.
//! In every case: the child is never started with a partial environment, the failing
//! references are named, and the exit code is 125 (or 128+n for a signal).

use std::time::{Duration, Instant};

use crate::emulator::{emulator, unique};
use crate::proxy::{Action, Fault, Proxy};
use crate::util::{EcsEnv, Run, ecs_env, empty_dir};

const REGION: &str = "us-east-1";

/// A task with `n` secrets; returns the task's `--secret` flags and the secret ARNs.
fn secrets(n: usize) -> (Vec<String>, Vec<String>) {
    let e = emulator();
    let arns: Vec<String> = (0..n)
        .map(|i| e.create_secret(REGION, &unique(&format!("fault{i}")), &format!("v{i}")))
        .collect();
    let flags = arns
        .iter()
        .enumerate()
        .flat_map(|(i, a)| ["--secret".to_owned(), format!("S{i}={a}")])
        .collect();
    (flags, arns)
}

/// Run through a proxy with these faults; the command would leave a marker if started.
fn run_with(proxy: &Proxy, flags: &[String], extra: &[&str]) -> (Run, bool) {
    let marker = empty_dir().join("started");
    let run = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(flags)
        .args(extra)
        .args(["--", "touch"])
        .arg(&marker)
        .output();
    (run, marker.exists())
}

fn fault(api: &'static str, needle: &str) -> Fault {
    Fault {
        api,
        needle: needle.to_owned(),
        ..Default::default()
    }
}

#[test]
fn server_errors_and_throttling_are_retried_then_reported() {
    let (flags, arns) = secrets(1);
    let name = arns[0].rsplit(':').next().unwrap().to_owned();
    for (status, code, label) in [
        (500, "InternalServiceError", "error"),
        (503, "ServiceUnavailable", "throttled"),
        (400, "ThrottlingException", "throttled"),
        (429, "TooManyRequestsException", "throttled"),
    ] {
        let f = Fault {
            status,
            code,
            message: "injected".into(),
            ..fault("GetSecretValue", &name)
        };
        let proxy = Proxy::start(&emulator().endpoint, vec![f]);
        let (run, started) = run_with(&proxy, &flags, &[]);
        run.assert_code(125)
            .assert_stderr_contains("S0")
            .assert_stderr_contains(code);
        assert!(!started, "{code}");
        // The SDK's standard retry: three attempts.
        assert_eq!(proxy.calls("GetSecretValue").len(), 3, "{code}");
        let check = ecs_env()
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .arg("check")
            .args(&flags)
            .args(["--format", "json"])
            .output();
        assert!(
            check
                .stdout()
                .contains(&format!("\"outcome\": \"{label}\"")),
            "{code}: {}",
            check.stdout()
        );
    }
    // A transient failure: two 503s, then the real answer.
    let f = Fault {
        status: 503,
        code: "ServiceUnavailable",
        times: Some(2),
        ..fault("GetSecretValue", &name)
    };
    let proxy = Proxy::start(&emulator().endpoint, vec![f]);
    let (run, started) = run_with(&proxy, &flags, &[]);
    run.assert_code(0);
    assert!(started);
    assert_eq!(proxy.calls("GetSecretValue").len(), 3);
}

#[test]
fn broken_responses_fail_closed() {
    let (flags, arns) = secrets(1);
    let name = arns[0].rsplit(':').next().unwrap().to_owned();
    for action in [Action::Close, Action::Truncate] {
        let proxy = Proxy::start(
            &emulator().endpoint,
            vec![Fault {
                action,
                ..fault("GetSecretValue", &name)
            }],
        );
        let (run, started) = run_with(&proxy, &flags, &["--timeout", "10s"]);
        run.assert_code(125).assert_stderr_contains("S0");
        assert!(!started, "{action:?}");
    }
    // A 200 whose body is not JSON.
    let garbage = Fault {
        status: 200,
        body: Some("<html>not json".into()),
        ..fault("GetSecretValue", &name)
    };
    let proxy = Proxy::start(&emulator().endpoint, vec![garbage]);
    let (run, started) = run_with(&proxy, &flags, &[]);
    run.assert_code(125).assert_stderr_contains("S0");
    assert!(!started);
}

#[test]
fn a_server_that_never_answers_is_bounded_by_the_timeout() {
    let (flags, arns) = secrets(1);
    let name = arns[0].rsplit(':').next().unwrap().to_owned();
    let proxy = Proxy::start(
        &emulator().endpoint,
        vec![Fault {
            action: Action::Hang,
            ..fault("GetSecretValue", &name)
        }],
    );
    let started_at = Instant::now();
    let (run, started) = run_with(&proxy, &flags, &["--timeout", "2s"]);
    run.assert_code(125).assert_stderr_contains("S0");
    assert!(!started);
    // A hang guard, not a benchmark: 2 s of budget plus start-up.
    assert!(
        started_at.elapsed() < Duration::from_secs(8),
        "{:?}",
        started_at.elapsed()
    );
    // Slow but answering: fine.
    let slow = Fault {
        action: Action::Delay(300),
        ..fault("GetSecretValue", &name)
    };
    let proxy = Proxy::start(&emulator().endpoint, vec![slow]);
    let (run, started) = run_with(&proxy, &flags, &[]);
    run.assert_code(0);
    assert!(started);
}

#[test]
fn one_failure_among_many_concurrent_requests_names_only_that_one() {
    let (flags, arns) = secrets(20);
    let bad = arns[7].rsplit(':').next().unwrap().to_owned();
    let f = Fault {
        status: 400,
        code: "AccessDeniedException",
        message: "not authorized".into(),
        ..fault("GetSecretValue", &bad)
    };
    let proxy = Proxy::start(&emulator().endpoint, vec![f]);
    let (run, started) = run_with(&proxy, &flags, &[]);
    run.assert_code(125)
        .assert_stderr_contains("1 problem")
        .assert_stderr_contains("S7 (from");
    assert!(!started);
    assert_eq!(proxy.calls("GetSecretValue").len(), 20);
}

#[test]
fn dead_and_unresolvable_endpoints() {
    let (flags, _) = secrets(1);
    for endpoint in ["http://127.0.0.1:1", "http://ecs-env-test.invalid:8080"] {
        let marker = empty_dir().join("started");
        let run = ecs_env()
            .env("AWS_ENDPOINT_URL", endpoint)
            .args(&flags)
            .args(["--timeout", "5s", "--", "touch"])
            .arg(&marker)
            .output();
        run.assert_code(125)
            .assert_stderr_contains("S0")
            .assert_stderr_contains("hint:");
        assert!(!marker.exists(), "{endpoint}");
    }
}

fn signal_while_fetching(signal: nix::sys::signal::Signal) -> (Option<i32>, bool, Duration) {
    let (flags, arns) = secrets(1);
    let name = arns[0].rsplit(':').next().unwrap().to_owned();
    let proxy = Proxy::start(
        &emulator().endpoint,
        vec![Fault {
            action: Action::Hang,
            ..fault("GetSecretValue", &name)
        }],
    );
    let marker = empty_dir().join("started");
    let mut cmd: EcsEnv = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(&flags)
        .args(["--", "touch"])
        .arg(&marker);
    let mut child = cmd
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the request is in flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    while proxy.calls("GetSecretValue").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    (status.code(), marker.exists(), sent.elapsed())
}

#[test]
fn sigterm_and_sigint_while_fetching_stop_promptly() {
    use nix::sys::signal::Signal;
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let (status, started, took) = signal_while_fetching(signal);
        assert_eq!(status, Some(code), "{signal}");
        assert!(!started, "{signal}");
        assert!(took < Duration::from_secs(3), "{signal}: {took:?}");
    }
}
