//! Environment files: find the bucket's region, then `GetObject` there, as the agent does
//! (spec 5.4: the bucket may be in any region; downloads time out after 30 s).

use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use zeroize::Zeroizing;

use super::error::{GRANTEE, Kind, classify, common_hint};
use crate::diagnostic::Class;
use crate::envfile::S3Object;
use crate::resolve::{Failure, FetchKey, Fetched};

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest environment file read, as for every other source.
const MAX_FILE_BYTES: u64 = crate::files::MAX_SOURCE_BYTES;

/// An object over [`MAX_FILE_BYTES`].
struct TooLarge;

/// Download one environment file. `locator` is a client in any region, for the bucket's
/// location; `client_for` builds the client for the bucket's own region.
pub(super) async fn fetch(
    locator: Client,
    regional: impl FnOnce(&str) -> Client,
    arn: String,
    object: S3Object,
) -> Vec<(FetchKey, Result<Fetched, Failure>)> {
    let key = FetchKey::EnvironmentFile {
        arn: arn.clone(),
        object: object.clone(),
    };
    let started = Instant::now();
    let location = locator
        .get_bucket_location()
        .bucket(&object.bucket)
        .send()
        .await;
    let region = match location {
        // An empty constraint means us-east-1; `EU` is the legacy name of eu-west-1.
        Ok(out) => match out.location_constraint().map(|c| c.as_str().to_owned()) {
            None => "us-east-1".to_owned(),
            Some(c) if c.is_empty() => "us-east-1".to_owned(),
            Some(c) if c == "EU" => "eu-west-1".to_owned(),
            Some(c) => c,
        },
        Err(err) => {
            let c = classify(&err);
            let f = failure(c.kind, c.message, &arn, "GetBucketLocation");
            return vec![(key, Err(f))];
        }
    };
    let client = regional(&region);
    let result = tokio::time::timeout(DOWNLOAD_TIMEOUT, async {
        let out = client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await?;
        // Streamed with a cap: the announced length is checked first, and the body is read
        // no further than the cap whatever it claims.
        if out
            .content_length()
            .is_some_and(|n| n > MAX_FILE_BYTES as i64)
        {
            return Ok(Err(TooLarge));
        }
        let mut body = out.body;
        let mut bytes = Zeroizing::new(Vec::new());
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(aws_sdk_s3::error::SdkError::construction_failure)?
        {
            if bytes.len() + chunk.len() > MAX_FILE_BYTES as usize {
                return Ok(Err(TooLarge));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok::<_, aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::get_object::GetObjectError, _>>(
            Ok(bytes),
        )
    })
    .await;
    tracing::debug!(
        file = %crate::diagnostic::escaped(&arn),
        region = %crate::diagnostic::escaped(&region),
        ok = matches!(result, Ok(Ok(Ok(_)))),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "GetObject"
    );
    let outcome = match result {
        Ok(Ok(Ok(bytes))) => Ok(Fetched::File(bytes)),
        Ok(Ok(Err(TooLarge))) => Err(Failure::new(
            Class::EnvfileRead,
            format!(
                "the environment file is larger than {} MiB, which no environment file is; it was \
                 not read",
                MAX_FILE_BYTES >> 20
            ),
        )
        .tried(format!("GetObject in {region}"))
        .hint("check that the ARN names the environment file")),
        Ok(Err(err)) => {
            let c = classify(&err);
            Err(failure(c.kind, c.message, &arn, "GetObject")
                .tried(format!("GetObject in {region}")))
        }
        Err(_) => Err(Failure::new(
            Class::EnvfileRead,
            format!(
                "downloading the environment file took longer than {}s",
                DOWNLOAD_TIMEOUT.as_secs()
            ),
        )
        .tried(format!("GetObject in {region}"))
        .outcome("network error")
        .hint("check the network and --endpoint-url")),
    };
    vec![(key, outcome)]
}

fn failure(kind: Kind, message: String, arn: &str, api: &str) -> Failure {
    let bucket_arn = crate::arn::s3_bucket(arn);
    let hint = match kind {
        Kind::AccessDenied => Some(format!(
            "grant `s3:GetObject` on `{arn}` and `s3:GetBucketLocation` on `{}` to {GRANTEE}",
            bucket_arn.unwrap_or_default()
        )),
        Kind::NotFound => Some(
            "check the bucket and key; ECS fails the task when an environment file is missing"
                .to_owned(),
        ),
        other => common_hint(other),
    };
    let f = Failure::new(
        Class::EnvfileRead,
        format!("{api} for the environment file failed: {message}"),
    )
    .tried(api.to_owned())
    .outcome(kind.label());
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}
