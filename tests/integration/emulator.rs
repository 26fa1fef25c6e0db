//! The AWS API emulator (moto's standalone server) on 127.0.0.1, shared by every test in this
//! binary, and blocking helpers that create secrets and parameters through the real API.
//!
//! Tests isolate themselves by name (every secret and parameter carries a unique prefix), not
//! by resetting the server, so they can run in parallel.
//!
//! moto is started through a small `sh` watchdog that holds a pipe from this process: when
//! the test binary exits, the pipe closes, and the watchdog stops moto and waits for it, so no
//! server outlives the tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::primitives::Blob;

pub struct Emulator {
    pub endpoint: String,
    runtime: tokio::runtime::Runtime,
    configs: Mutex<std::collections::HashMap<String, SdkConfig>>,
    _watchdog: Mutex<(Child, ChildStdin)>,
}

/// A container to register: name, environment, secrets.
pub type Container<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);

static EMULATOR: OnceLock<Emulator> = OnceLock::new();
static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// The shared emulator, started on first use.
pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(Emulator::start)
}

/// An emulator of its own, for a test that changes server-wide state (IAM enforcement).
/// Stopped when dropped.
pub fn private_emulator() -> Emulator {
    Emulator::start()
}

/// A prefix no other test uses, for names of secrets and parameters.
pub fn unique(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("ECS_ENV_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    assert!(
        venv.exists(),
        "moto_server not found at {}: run `scripts/test` (it installs the pinned emulator into \
         .venv), or set ECS_ENV_MOTO_SERVER",
        venv.display()
    );
    venv
}

impl Emulator {
    fn start() -> Emulator {
        let server = moto_server();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" -H 127.0.0.1 -p 0 2>&1 & pid=$!; read _ignored; kill $pid; wait $pid"#)
            .arg(&server)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let endpoint = loop {
            let line = lines
                .next()
                .expect("moto_server exited before it was ready")
                .expect("read moto_server output");
            if let Some(i) = line.find("Running on http://") {
                break line[i + "Running on ".len()..].trim().to_owned();
            }
        };
        // Keep draining: moto logs every request, and a full pipe would block it.
        std::thread::spawn(move || for _ in lines {});
        Emulator {
            endpoint,
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            configs: Mutex::default(),
            _watchdog: Mutex::new((child, stdin)),
        }
    }

    /// Turn on the emulator's IAM enforcement for every later request (actions only).
    pub fn enforce_iam(&self) {
        use std::io::{Read, Write};
        let host = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(
            s,
            "POST /moto-api/reset-auth HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0"
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    /// Create the IAM user `name`, allowed `actions` on `"*"` (tests/support/moto_iam.py);
    /// its access key id and secret access key.
    pub fn iam_user<S: AsRef<str>>(&self, name: &str, actions: &[S]) -> (String, String) {
        let actions: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        let out = self.python(
            "moto_iam.py",
            &[
                &self.endpoint,
                name,
                &serde_json::to_string(&actions).unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let (id, secret) = text.trim().split_once(' ').unwrap();
        (id.to_owned(), secret.to_owned())
    }

    /// Run a helper script from tests/support with the emulator's Python.
    /// The test environment's Python (with boto3), for commands run under ecs-env.
    pub fn python_path() -> PathBuf {
        moto_server().with_file_name("python")
    }

    pub fn python(&self, script: &str, args: &[&str]) -> std::process::Output {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = moto_server().with_file_name("python");
        Command::new(python)
            .arg(root.join("tests/support").join(script))
            .args(args)
            .output()
            .expect("run a tests/support script")
    }

    fn config(&self, region: &str) -> SdkConfig {
        let mut configs = self.configs.lock().unwrap();
        configs
            .entry(region.to_owned())
            .or_insert_with(|| {
                let creds = aws_credential_types::Credentials::new(
                    "testing", "testing", None, None, "tests",
                );
                self.runtime.block_on(
                    aws_config::defaults(BehaviorVersion::latest())
                        .region(Region::new(region.to_owned()))
                        .endpoint_url(&self.endpoint)
                        .credentials_provider(creds)
                        .load(),
                )
            })
            .clone()
    }

    pub fn secrets(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.config(region))
    }

    pub fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.config(region))
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Create a string secret; returns its real ARN (the emulator picks the suffix).
    pub fn create_secret(&self, region: &str, name: &str, value: &str) -> String {
        self.create(region, name, Some(value), None, None)
    }

    /// Create a secret with a chosen first version id.
    pub fn create_secret_version(
        &self,
        region: &str,
        name: &str,
        value: &str,
        version_id: &str,
    ) -> String {
        self.create(region, name, Some(value), None, Some(version_id))
    }

    pub fn create_binary_secret(&self, region: &str, name: &str, bytes: &[u8]) -> String {
        self.create(region, name, None, Some(bytes), None)
    }

    pub fn create_secret_version_binary(&self, region: &str, name: &str, bytes: &[u8]) -> String {
        self.create_binary_secret(region, name, bytes)
    }

    fn create(
        &self,
        region: &str,
        name: &str,
        value: Option<&str>,
        bytes: Option<&[u8]>,
        version_id: Option<&str>,
    ) -> String {
        let client = self.secrets(region);
        let out = self
            .block_on(
                client
                    .create_secret()
                    .name(name)
                    .set_secret_string(value.map(str::to_owned))
                    .set_secret_binary(bytes.map(Blob::new))
                    .set_client_request_token(version_id.map(str::to_owned))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("create secret {name}: {e:?}"));
        out.arn().unwrap().to_owned()
    }

    /// Add a version with the given stages (AWSCURRENT moves to it; the old one becomes
    /// AWSPREVIOUS).
    pub fn put_secret_value(&self, region: &str, secret_id: &str, value: &str, version_id: &str) {
        let client = self.secrets(region);
        self.block_on(
            client
                .put_secret_value()
                .secret_id(secret_id)
                .secret_string(value)
                .client_request_token(version_id)
                .send(),
        )
        .unwrap_or_else(|e| panic!("put secret value {secret_id}: {e:?}"));
    }

    /// Upload an object, an environment file or a Terraform state (creating the bucket, in
    /// `region`, if needed); returns its S3 object ARN as `environmentFiles` takes it.
    pub fn put_object(&self, region: &str, bucket: &str, key: &str, content: &[u8]) -> String {
        use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
        let conf = aws_sdk_s3::config::Builder::from(&self.config(region))
            .force_path_style(true)
            .build();
        let client = aws_sdk_s3::Client::from_conf(conf);
        let mut create = client.create_bucket().bucket(bucket);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        // Already there is fine: several files share a bucket.
        let _ = self.block_on(create.send());
        self.block_on(
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(content.to_vec().into())
                .send(),
        )
        .unwrap_or_else(|e| panic!("put object {key}: {e:?}"));
        format!("arn:aws:s3:::{bucket}/{key}")
    }

    /// Register a task definition from register-task-definition input JSON; returns its ARN.
    pub fn register_task_definition(
        &self,
        region: &str,
        family: &str,
        containers: &[Container<'_>],
    ) -> String {
        use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Secret};
        let client = aws_sdk_ecs::Client::new(&self.config(region));
        let defs: Vec<ContainerDefinition> = containers
            .iter()
            .map(|(name, env, secrets)| {
                ContainerDefinition::builder()
                    .name(*name)
                    .image("app:latest")
                    .memory(512)
                    .set_environment(Some(
                        env.iter()
                            .map(|(n, v)| KeyValuePair::builder().name(*n).value(*v).build())
                            .collect(),
                    ))
                    .set_secrets(Some(
                        secrets
                            .iter()
                            .map(|(n, v)| {
                                Secret::builder().name(*n).value_from(*v).build().unwrap()
                            })
                            .collect(),
                    ))
                    .build()
            })
            .collect();
        let out = self
            .block_on(
                client
                    .register_task_definition()
                    .family(family)
                    .execution_role_arn("arn:aws:iam::123456789012:role/exec")
                    .set_container_definitions(Some(defs))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("register {family}: {e:?}"));
        out.task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_owned()
    }

    /// A cluster and a service running `task_definition`.
    pub fn create_service(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) {
        let client = aws_sdk_ecs::Client::new(&self.config(region));
        self.block_on(client.create_cluster().cluster_name(cluster).send())
            .unwrap();
        self.block_on(
            client
                .create_service()
                .cluster(cluster)
                .service_name(service)
                .task_definition(task_definition)
                .desired_count(0)
                .send(),
        )
        .unwrap_or_else(|e| panic!("create service {service}: {e:?}"));
    }

    /// Deploy a CloudFormation stack from a template body.
    pub fn create_stack(&self, region: &str, name: &str, template: &str) {
        let client = aws_sdk_cloudformation::Client::new(&self.config(region));
        self.block_on(
            client
                .create_stack()
                .stack_name(name)
                .template_body(template)
                .send(),
        )
        .unwrap_or_else(|e| panic!("create stack {name}: {e:?}"));
    }

    /// Create the IAM role `name` under `path` (trusted by ECS tasks); returns its ARN.
    pub fn create_role(&self, name: &str, path: &str) -> String {
        let client = aws_sdk_iam::Client::new(&self.config("us-east-1"));
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let out = self
            .block_on(
                client
                    .create_role()
                    .role_name(name)
                    .path(path)
                    .assume_role_policy_document(trust)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("create role {name}: {e:?}"));
        out.role().unwrap().arn().to_owned()
    }

    /// Create a KMS key with the alias `alias` (`alias/...`); returns the key's ARN.
    pub fn create_key_alias(&self, region: &str, alias: &str) -> String {
        let client = aws_sdk_kms::Client::new(&self.config(region));
        let key = self
            .block_on(client.create_key().send())
            .unwrap_or_else(|e| panic!("create key: {e:?}"));
        let key = key.key_metadata().unwrap();
        self.block_on(
            client
                .create_alias()
                .alias_name(alias)
                .target_key_id(key.key_id())
                .send(),
        )
        .unwrap_or_else(|e| panic!("create alias {alias}: {e:?}"));
        key.arn().unwrap().to_owned()
    }

    pub fn put_parameter(&self, region: &str, name: &str, value: &str, secure: bool) {
        use aws_sdk_ssm::types::ParameterType;
        let client = self.ssm(region);
        let kind = if secure {
            ParameterType::SecureString
        } else {
            ParameterType::String
        };
        self.block_on(
            client
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(kind)
                .send(),
        )
        .unwrap_or_else(|e| panic!("put parameter {name}: {e:?}"));
    }
}
