//! A small recording and fault-injecting HTTP proxy in front of the emulator.
//!
//! It records every request (API, signing region, JSON body) so tests can assert what was
//! sent and how often, and it answers requests that match a rule with a canned response:
//! the failures the emulator cannot produce (`AccessDeniedException`, throttling, 5xx).
//! Everything else is forwarded to the emulator unchanged. One request per connection: the
//! proxy answers with `Connection: close`, which every HTTP client honours.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    /// `X-Amz-Target`, e.g. `secretsmanager.GetSecretValue`, `AmazonSSM.GetParameters`.
    pub target: String,
    /// The region from the request's signature.
    pub region: String,
    pub body: serde_json::Value,
    /// The body as sent (form-encoded for query-protocol APIs such as STS).
    pub raw: String,
    /// The access key id from the request's signature.
    pub access_key: String,
}

impl Request {
    pub fn api(&self) -> &str {
        self.target.rsplit('.').next().unwrap_or_default()
    }
}

/// Answer requests whose target ends with `api` and whose body contains `needle` with
/// `status` and a JSON error of type `code` (or, with `body`, that JSON body as a success),
/// or misbehave as `action` says.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub api: &'static str,
    pub needle: String,
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub body: Option<String>,
    pub action: Action,
    /// Apply to the first N matching requests only (then forward): a transient failure.
    pub times: Option<usize>,
}

/// How a faulted request is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Action {
    /// The canned status and body.
    #[default]
    Respond,
    /// Accept the request and never answer.
    Hang,
    /// Close the connection without a response.
    Close,
    /// Promise more body than is sent, then close.
    Truncate,
    /// Forward to the emulator after this many milliseconds.
    Delay(u64),
}

pub struct Proxy {
    pub endpoint: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Proxy {
    pub fn start(upstream: &str, faults: Vec<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let faults = Arc::new(faults);
        let applied = Arc::new(Mutex::new(vec![0usize; faults.len()]));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, recorded, faults, applied) = (
                    upstream.clone(),
                    Arc::clone(&recorded),
                    Arc::clone(&faults),
                    Arc::clone(&applied),
                );
                std::thread::spawn(move || {
                    let _ = handle(stream, &upstream, &recorded, &faults, &applied);
                });
            }
        });
        Proxy { endpoint, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests to one API (e.g. `GetSecretValue`).
    pub fn calls(&self, api: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.api() == api)
            .collect()
    }
}

fn handle(
    mut client: TcpStream,
    upstream: &str,
    recorded: &Mutex<Vec<Request>>,
    faults: &[Fault],
    applied: &Mutex<Vec<usize>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0;
    let mut target = String::new();
    let mut region = String::new();
    let mut access_key = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("x-amz-target:") {
            target = line["x-amz-target:".len()..].trim().to_owned();
        }
        if lower.starts_with("authorization:") {
            // Credential=AKID/20260101/us-east-1/secretsmanager/aws4_request
            if let Some(cred) = line.split("Credential=").nth(1) {
                region = cred.split('/').nth(2).unwrap_or_default().to_owned();
                access_key = cred.split('/').next().unwrap_or_default().to_owned();
            }
        }
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body).into_owned();
    recorded.lock().unwrap().push(Request {
        target: target.clone(),
        region,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw: text.clone(),
        access_key,
    });

    let fault = {
        let mut applied = applied.lock().unwrap();
        faults
            .iter()
            .enumerate()
            .find(|(i, f)| {
                target.ends_with(f.api)
                    && text.contains(&f.needle)
                    && f.times.is_none_or(|n| applied[*i] < n)
            })
            .map(|(i, f)| {
                applied[i] += 1;
                f
            })
    };
    let mut delay = None;
    match fault.map(|f| f.action) {
        Some(Action::Hang) => {
            // Hold the connection open until the client gives up.
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink);
            return Ok(());
        }
        Some(Action::Close) => return Ok(()),
        Some(Action::Truncate) => {
            write!(
                client,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\n\r\n{{\"SecretStr"
            )?;
            return client.flush();
        }
        Some(Action::Delay(ms)) => delay = Some(std::time::Duration::from_millis(ms)),
        Some(Action::Respond) | None => {}
    }
    if let Some(d) = delay {
        std::thread::sleep(d);
    }
    if let Some(f) = fault.filter(|f| f.action == Action::Respond) {
        let payload = match &f.body {
            Some(body) => body.clone(),
            None => serde_json::json!({"__type": f.code, "message": f.message}).to_string(),
        };
        let error_type = if f.code.is_empty() {
            String::new()
        } else {
            format!("x-amzn-ErrorType: {}\r\n", f.code)
        };
        write!(
            client,
            "HTTP/1.1 {} Injected\r\nContent-Type: application/x-amz-json-1.1\r\n{error_type}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
            f.status,
            payload.len(),
            payload
        )?;
        return client.flush();
    }

    let mut server = TcpStream::connect(upstream)?;
    server.write_all(&head)?;
    server.write_all(&body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    // Make sure the client does not try to reuse this connection.
    let response = mark_close(&response);
    client.write_all(&response)?;
    client.flush()
}

fn mark_close(response: &[u8]) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let mut out: Vec<u8> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n")
        .into_bytes();
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&response[end + 4..]);
    out
}
