//! The HTTP side of the credentials endpoint: a listener on 127.0.0.1 that answers `GET` on
//! one random path, with the right token, with the current credentials document.
//!
//! The protocol is what every AWS SDK's container credentials provider speaks: one `GET` of
//! the URL in `AWS_CONTAINER_CREDENTIALS_FULL_URI`, the token in the `Authorization` header,
//! a JSON document back. That is one small request per hour, so each connection gets one
//! answer and is closed; httparse (already in the tree under the SDK's HTTP stack) parses the
//! request head, and nothing here needs a full HTTP server.
//!
//! Nothing from a request is logged but its method and the status returned: the
//! `Authorization` header is a credential, and the path is half of one.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zeroize::Zeroizing;

/// What serves the credentials document (the task role; a fixed document in tests).
pub(crate) trait Documents: Send + Sync + 'static {
    fn document(&self) -> impl Future<Output = Result<Zeroizing<String>, String>> + Send;
}

impl Documents for crate::aws::task_role::TaskRole {
    fn document(&self) -> impl Future<Output = Result<Zeroizing<String>, String>> + Send {
        crate::aws::task_role::TaskRole::document(self)
    }
}

/// A request head larger than this is refused: the SDKs send a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// A client that has not sent its request head by then is disconnected.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What a request gets, decided from its head alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// 200 with the document.
    Credentials,
    /// 400: not HTTP.
    BadRequest,
    /// 404: another path.
    NotFound,
    /// 405: not GET (or HEAD).
    MethodNotAllowed,
    /// 403: the token is missing or wrong.
    Forbidden,
}

/// The route for a request: the path first, so that a wrong path says nothing about tokens.
pub(crate) fn route(
    method: &str,
    target: &str,
    authorization: Option<&[u8]>,
    path: &str,
    token: &str,
) -> Route {
    if !constant_time_eq(target.as_bytes(), path.as_bytes()) {
        Route::NotFound
    } else if method != "GET" {
        Route::MethodNotAllowed
    } else if authorization.is_none_or(|given| !constant_time_eq(given, token.as_bytes())) {
        Route::Forbidden
    } else {
        Route::Credentials
    }
}

/// Equality whose time depends on the lengths only, not on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Accept connections forever, each answered on its own task.
pub(crate) async fn serve<D: Documents>(
    listener: TcpListener,
    path: Arc<str>,
    token: Arc<Zeroizing<String>>,
    documents: Arc<D>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::debug!(error = %e, "credentials endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (path, token, documents) = (path.clone(), token.clone(), documents.clone());
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &path, &token, &*documents).await {
                tracing::debug!(error = %e, "credentials endpoint: connection failed");
            }
        });
    }
}

/// Read one request head and answer it.
async fn answer<D: Documents>(
    mut stream: TcpStream,
    path: &str,
    token: &str,
    documents: &D,
) -> std::io::Result<()> {
    let mut head = Zeroizing::new(Vec::with_capacity(1024));
    let route = loop {
        let mut chunk = [0u8; 2048];
        let n = match tokio::time::timeout(READ_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(read) => read?,
            Err(_) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
        chunk.fill(0);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let authorization = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("authorization"))
                    .map(|h| h.value);
                break route(
                    request.method.unwrap_or_default(),
                    request.path.unwrap_or_default(),
                    authorization,
                    path,
                    token,
                );
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD => {}
            _ => break Route::BadRequest,
        }
    };
    tracing::debug!(?route, "credentials endpoint: request");
    let (status, body) = match route {
        Route::Credentials => match documents.document().await {
            Ok(document) => ("200 OK", document),
            Err(e) => {
                crate::error::warn(&format!(
                    "the task role's credentials could not be renewed: {e}; the command's AWS \
                     SDK gets an error and will ask again"
                ));
                ("500 Internal Server Error", error_body("RenewalFailed", &e))
            }
        },
        Route::Forbidden => (
            "403 Forbidden",
            error_body(
                "AccessDenied",
                "missing or wrong Authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN)",
            ),
        ),
        Route::NotFound => ("404 Not Found", error_body("NotFound", "no such path")),
        Route::MethodNotAllowed => (
            "405 Method Not Allowed",
            error_body("MethodNotAllowed", "only GET is answered"),
        ),
        Route::BadRequest => (
            "400 Bad Request",
            error_body("BadRequest", "not an HTTP request"),
        ),
    };
    let response = Zeroizing::new(format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body.as_str()
    ));
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn error_body(code: &str, message: &str) -> Zeroizing<String> {
    Zeroizing::new(serde_json::json!({ "code": code, "message": message }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/ecs-env/0123456789abcdef";
    const TOKEN: &str = "t0ken";

    #[test]
    fn only_the_path_the_method_and_the_token_together_get_credentials() {
        let r = |method, target, auth: Option<&str>| {
            route(method, target, auth.map(str::as_bytes), PATH, TOKEN)
        };
        assert_eq!(r("GET", PATH, Some(TOKEN)), Route::Credentials);
        assert_eq!(r("GET", PATH, None), Route::Forbidden);
        assert_eq!(r("GET", PATH, Some("t0ke")), Route::Forbidden);
        assert_eq!(r("GET", PATH, Some("t0kenx")), Route::Forbidden);
        assert_eq!(r("GET", PATH, Some("")), Route::Forbidden);
        assert_eq!(r("GET", "/", Some(TOKEN)), Route::NotFound);
        assert_eq!(
            r("GET", "/ecs-env/0123456789abcdef/", Some(TOKEN)),
            Route::NotFound
        );
        assert_eq!(r("POST", PATH, Some(TOKEN)), Route::MethodNotAllowed);
        // A wrong path answers the same with or without a token.
        assert_eq!(r("GET", "/v2/credentials", None), Route::NotFound);
    }

    /// In-process fake (the emulator cannot fail a renewal on demand): a fixed document or
    /// a fixed error.
    struct Fixed(Result<&'static str, &'static str>);

    impl Documents for Fixed {
        async fn document(&self) -> Result<Zeroizing<String>, String> {
            self.0
                .map(|d| Zeroizing::new(d.to_owned()))
                .map_err(str::to_owned)
        }
    }

    async fn exchange(fixed: Fixed, request: &str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve(
            listener,
            PATH.into(),
            Arc::new(Zeroizing::new(TOKEN.to_owned())),
            Arc::new(fixed),
        ));
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn answers_are_complete_http_responses() {
        let ok = exchange(
            Fixed(Ok(r#"{"AccessKeyId":"A"}"#)),
            &format!("GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: {TOKEN}\r\n\r\n"),
        )
        .await;
        assert_eq!(
            ok,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 19\r\nConnection: close\r\n\r\n{\"AccessKeyId\":\"A\"}"
        );
        let denied = exchange(
            Fixed(Ok("{}")),
            &format!("GET {PATH} HTTP/1.1\r\nAuthorization: wrong\r\n\r\n"),
        )
        .await;
        assert!(denied.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{denied}");
        let failed = exchange(
            Fixed(Err("STS said no")),
            &format!("GET {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
        )
        .await;
        assert!(failed.starts_with("HTTP/1.1 500 "), "{failed}");
        assert!(
            failed.ends_with(r#"{"code":"RenewalFailed","message":"STS said no"}"#),
            "{failed}"
        );
        let garbage = exchange(Fixed(Ok("{}")), "\x16\x03\x01 not http\r\n\r\n").await;
        assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    }
}
