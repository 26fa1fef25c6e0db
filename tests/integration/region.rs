//! The task region from EC2 instance metadata, the chain's last resort, against a fake
//! metadata service: an in-process HTTP server on 127.0.0.1 that answers IMDSv2's token
//! request and `placement/region`, named by `AWS_EC2_METADATA_SERVICE_ENDPOINT` (this machine
//! is no EC2 instance, and the real address must never be probed from a test). It records
//! every request, so the tests also show when metadata is *not* asked.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::util::{EcsEnv, ecs_env_offline, task_definition};

/// The fake instance's region.
const REGION: &str = "eu-west-3";

/// A fake instance metadata service: IMDSv2 token, then the region; every request line kept.
struct FakeImds {
    endpoint: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeImds {
    fn start() -> FakeImds {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                // The head ends at an empty line; neither request has a body.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let (headers, body) = if line.starts_with("PUT /latest/api/token ") {
                    (
                        "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n",
                        "fake-token",
                    )
                } else if line.starts_with("GET /latest/meta-data/placement/region ") {
                    ("", REGION)
                } else {
                    ("", "")
                };
                let status = if body.is_empty() {
                    "404 Not Found"
                } else {
                    "200 OK"
                };
                seen.lock().unwrap().push(line.trim_end().to_owned());
                let _ = write!(
                    reader.get_mut(),
                    "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeImds { endpoint, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// ecs-env with no region anywhere (no variable, no profile), metadata not disabled, and the
/// fake as the metadata endpoint.
fn without_region(imds: &FakeImds) -> EcsEnv {
    ecs_env_offline()
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.endpoint)
}

#[test]
fn with_nothing_else_set_the_region_comes_from_instance_metadata() {
    let imds = FakeImds::start();
    let env = without_region(&imds)
        .task_definition(&task_definition(&[("A", "1")], &[]))
        .child_env();
    // The ECS rule: the task region, injected as both variables.
    env.assert("AWS_REGION", REGION);
    env.assert("AWS_DEFAULT_REGION", REGION);
    let requests = imds.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("PUT /latest/api/token ")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /latest/meta-data/placement/region ")),
        "{requests:?}"
    );
}

#[test]
fn metadata_is_not_asked_when_the_region_is_set_disabled_or_offline() {
    let imds = FakeImds::start();
    let td = task_definition(&[("A", "1")], &[]);
    // A region set any other way comes first.
    let env = without_region(&imds)
        .args(["--region", "us-west-2"])
        .task_definition(&td)
        .child_env();
    env.assert("AWS_REGION", "us-west-2");
    // Disabled, as for the SDK: no request, so no region, which ECS's rule needs.
    without_region(&imds)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .task_definition(&td)
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("no_region");
    // --offline opens no connection, not even to the metadata service: `check` then reports
    // the region missing, which it would have taken from the fake.
    let check = without_region(&imds)
        .args(["check", "--offline"])
        .task_definition(&td)
        .output();
    check.assert_code(1);
    assert!(check.stdout().contains("no_region"), "{}", check.stdout());
    without_region(&imds)
        .args(["policy", "--offline"])
        .task_definition(&td)
        .output()
        .assert_code(0);
    assert_eq!(imds.requests(), Vec::<String>::new());
}
