//! The benchmark's floor: the least a program in ecs-env's position can do with a network.
//!
//! One process start, one HTTP request (a `GetSecretValue` for the secret named in argv[2])
//! to the endpoint in argv[1] (`http://HOST:PORT`), wait for the whole response, then exec
//! argv[3..] with the inherited environment. The response is complete when Content-Length
//! bytes of body have arrived. std only, built by `bench/run` with
//! `rustc -C opt-level=3 -C panic=abort`, so it costs exactly one round trip plus one process
//! start and one exec: nothing to load, no TLS, no signing (moto does not check signatures).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: floor http://HOST:PORT SECRET_ID COMMAND [ARGS...]");
        return ExitCode::from(2);
    }
    let host = args[1].trim_start_matches("http://").trim_end_matches('/');
    let body = format!("{{\"SecretId\":\"{}\"}}", args[2]);
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: secretsmanager.GetSecretValue\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(host).expect("connect");
    stream.write_all(request.as_bytes()).expect("write");
    // Read the status line, the headers and exactly Content-Length bytes of body: the
    // response is complete then, whenever the server gets round to closing the connection.
    let mut response = Vec::new();
    let mut chunk = [0u8; 16384];
    let complete = |r: &[u8]| -> bool {
        let Some(end) = r.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&r[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        match length {
            Some(n) => r.len() >= end + 4 + n,
            None => false,
        }
    };
    while !complete(&response) {
        let n = stream.read(&mut chunk).expect("read");
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
    }
    if !response.starts_with(b"HTTP/1.1 200") && !response.starts_with(b"HTTP/1.0 200") {
        eprintln!("floor: unexpected response");
        return ExitCode::from(1);
    }
    let err = Command::new(&args[3]).args(&args[4..]).exec();
    eprintln!("floor: exec: {err}");
    ExitCode::from(127)
}
