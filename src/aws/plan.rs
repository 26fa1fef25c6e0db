//! Which requests read a set of fetches: pure, so every rule has a table test, and the
//! executor in `mod.rs` only makes the calls.
//!
//! - A region with two or more current secret versions reads them with
//!   `BatchGetSecretValue`, twenty per call, unless batching is off (`--no-batch`) or this
//!   identity was recently denied it there (`capabilities.rs`). A lone current version, a
//!   pinned stage or version id, and a denied region use one `GetSecretValue` each.
//! - Parameters go to `GetParameters`, ten names per call per region, never two names that
//!   AWS could answer alike in one call (`ssm::batches`).
//! - Each environment file is one `GetObject`.

use std::collections::{BTreeMap, BTreeSet};

use crate::envfile::S3Object;
use crate::resolve::{FetchKey, SecretVersion};

/// `BatchGetSecretValue` takes at most twenty ids.
pub(crate) const SECRET_BATCH: usize = 20;

/// `GetParameters` takes at most ten names.
pub(crate) const PARAMETER_BATCH: usize = 10;

/// One request (or, for a batch, one call with its per-id fallbacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// `GetSecretValue` for one version.
    Secret(SecretVersion),
    /// `BatchGetSecretValue` for up to twenty current versions of one region.
    SecretBatch {
        region: String,
        versions: Vec<SecretVersion>,
    },
    /// `GetParameters` for up to ten names of one region.
    Parameters { region: String, names: Vec<String> },
    /// `GetObject` for one environment file.
    File { arn: String, object: S3Object },
}

/// The regions where a batch would save requests: two or more distinct current versions.
pub(crate) fn batch_regions(fetches: &[FetchKey]) -> BTreeSet<String> {
    let mut current: BTreeMap<&str, usize> = BTreeMap::new();
    let distinct: BTreeSet<&FetchKey> = fetches.iter().collect();
    for f in distinct {
        if let FetchKey::Secret(v) = f
            && v.is_current()
        {
            *current.entry(&v.region).or_default() += 1;
        }
    }
    current
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(region, _)| region.to_owned())
        .collect()
}

/// The requests that read `fetches` (each key once). `batch`: whether batching is on;
/// `denied`: regions where it was denied to this identity.
pub(crate) fn requests(
    fetches: &[FetchKey],
    batch: bool,
    denied: &BTreeSet<String>,
) -> Vec<Request> {
    let batchable: BTreeSet<String> = if batch {
        batch_regions(fetches)
            .into_iter()
            .filter(|r| !denied.contains(r))
            .collect()
    } else {
        BTreeSet::new()
    };
    let mut out = Vec::new();
    let mut current: BTreeMap<String, Vec<SecretVersion>> = BTreeMap::new();
    let mut parameters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let distinct: BTreeSet<&FetchKey> = fetches.iter().collect();
    for f in distinct {
        match f {
            FetchKey::Secret(v) if v.is_current() && batchable.contains(&v.region) => {
                current.entry(v.region.clone()).or_default().push(v.clone());
            }
            FetchKey::Secret(v) => out.push(Request::Secret(v.clone())),
            FetchKey::Parameter { region, name } => {
                parameters
                    .entry(region.clone())
                    .or_default()
                    .push(name.clone());
            }
            FetchKey::EnvironmentFile { arn, object } => out.push(Request::File {
                arn: arn.clone(),
                object: object.clone(),
            }),
        }
    }
    for (region, versions) in current {
        for chunk in versions.chunks(SECRET_BATCH) {
            out.push(Request::SecretBatch {
                region: region.clone(),
                versions: chunk.to_vec(),
            });
        }
    }
    for (region, names) in parameters {
        for names in super::ssm::batches(names, String::as_str, PARAMETER_BATCH) {
            out.push(Request::Parameters {
                region: region.clone(),
                names,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(region: &str, id: &str, stage: Option<&str>, version: Option<&str>) -> FetchKey {
        FetchKey::Secret(SecretVersion {
            region: region.into(),
            secret_id: id.into(),
            version_stage: stage.map(Into::into),
            version_id: version.map(Into::into),
        })
    }

    fn current(region: &str, id: &str) -> FetchKey {
        secret(region, id, None, None)
    }

    fn parameter(region: &str, name: &str) -> FetchKey {
        FetchKey::Parameter {
            region: region.into(),
            name: name.into(),
        }
    }

    /// A request as a short string, for tables: `S id`, `B region n`, `P region n`, `F arn`.
    fn shape(r: &Request) -> String {
        match r {
            Request::Secret(v) => format!("S {}", v.secret_id),
            Request::SecretBatch { region, versions } => format!("B {region} {}", versions.len()),
            Request::Parameters { region, names } => format!("P {region} {}", names.len()),
            Request::File { arn, .. } => format!("F {arn}"),
        }
    }

    fn shapes(fetches: &[FetchKey], batch: bool, denied: &[&str]) -> Vec<String> {
        let denied: BTreeSet<String> = denied.iter().map(|d| (*d).to_owned()).collect();
        requests(fetches, batch, &denied)
            .iter()
            .map(shape)
            .collect()
    }

    #[test]
    fn table() {
        let many = |region: &str, n: usize| -> Vec<FetchKey> {
            (0..n)
                .map(|i| current(region, &format!("{region}-s{i}")))
                .collect()
        };
        let e = "us-east-1";
        let w = "eu-west-1";
        type Case<'a> = (&'a str, Vec<FetchKey>, bool, Vec<&'a str>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            ("nothing", vec![], true, vec![], vec![]),
            (
                "one current secret: no batch",
                vec![current(e, "a")],
                true,
                vec![],
                vec!["S a"],
            ),
            (
                "two current secrets: one batch",
                vec![current(e, "a"), current(e, "b")],
                true,
                vec![],
                vec!["B us-east-1 2"],
            ),
            (
                "the same secret twice is one fetch",
                vec![current(e, "a"), current(e, "a")],
                true,
                vec![],
                vec!["S a"],
            ),
            // Requests come in key order: region, then id.
            (
                "two regions, one each: no batch",
                vec![current(e, "a"), current(w, "b")],
                true,
                vec![],
                vec!["S b", "S a"],
            ),
            (
                "--no-batch",
                vec![current(e, "a"), current(e, "b")],
                false,
                vec![],
                vec!["S a", "S b"],
            ),
            (
                "denied in the region",
                vec![current(e, "a"), current(e, "b")],
                true,
                vec![e],
                vec!["S a", "S b"],
            ),
            (
                "denied elsewhere only",
                vec![current(e, "a"), current(e, "b")],
                true,
                vec![w],
                vec!["B us-east-1 2"],
            ),
            (
                "pinned versions are never batched",
                vec![
                    current(e, "a"),
                    secret(e, "b", Some("AWSPREVIOUS"), None),
                    secret(e, "c", None, Some("v1")),
                ],
                true,
                vec![],
                vec!["S a", "S b", "S c"],
            ),
            (
                "41 current: 20 + 20 + 1",
                many(e, 41),
                true,
                vec![],
                vec!["B us-east-1 20", "B us-east-1 20", "B us-east-1 1"],
            ),
            (
                "parameters: ten per call, per region",
                (0..11)
                    .map(|i| parameter(e, &format!("/p{i}")))
                    .chain([parameter(w, "/q")])
                    .collect(),
                true,
                vec![],
                vec!["P eu-west-1 1", "P us-east-1 10", "P us-east-1 1"],
            ),
            (
                "parameters AWS could confuse: separate calls",
                vec![
                    parameter(e, "x"),
                    parameter(e, "/x"),
                    parameter(e, "/aws/reference/secretsmanager/x"),
                ],
                true,
                vec![],
                vec!["P us-east-1 1", "P us-east-1 1", "P us-east-1 1"],
            ),
            (
                "environment files: one request each",
                vec![FetchKey::EnvironmentFile {
                    arn: "arn:aws:s3:::b/k.env".into(),
                    object: S3Object {
                        bucket: "b".into(),
                        key: "k.env".into(),
                    },
                }],
                true,
                vec![],
                vec!["F arn:aws:s3:::b/k.env"],
            ),
        ];
        for (name, fetches, batch, denied, want) in cases {
            assert_eq!(shapes(&fetches, batch, &denied), want, "{name}");
        }
    }

    #[test]
    fn every_fetch_is_requested_exactly_once() {
        let mut fetches: Vec<FetchKey> = (0..45)
            .map(|i| current("us-east-1", &format!("s{i}")))
            .collect();
        fetches.extend((0..23).map(|i| parameter("us-east-1", &format!("/p{i}"))));
        fetches.push(secret("us-east-1", "pinned", Some("AWSPENDING"), None));
        for batch in [true, false] {
            let mut seen = Vec::new();
            for r in requests(&fetches, batch, &BTreeSet::new()) {
                match r {
                    Request::Secret(v) => seen.push(FetchKey::Secret(v)),
                    Request::SecretBatch { versions, .. } => {
                        assert!(versions.len() <= SECRET_BATCH);
                        seen.extend(versions.into_iter().map(FetchKey::Secret));
                    }
                    Request::Parameters { region, names } => {
                        assert!(names.len() <= PARAMETER_BATCH);
                        seen.extend(names.into_iter().map(|name| FetchKey::Parameter {
                            region: region.clone(),
                            name,
                        }));
                    }
                    Request::File { arn, object } => {
                        seen.push(FetchKey::EnvironmentFile { arn, object })
                    }
                }
            }
            seen.sort();
            let mut want = fetches.clone();
            want.sort();
            assert_eq!(seen, want, "batch: {batch}");
        }
    }
}
