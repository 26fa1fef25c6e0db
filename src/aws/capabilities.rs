//! What ecs-env remembers between runs: that an identity may not call
//! `BatchGetSecretValue` in a region.
//!
//! Task execution roles usually grant `secretsmanager:GetSecretValue` only. Without a memory,
//! every run with such an identity would pay one failing batch round trip before falling back
//! to `GetSecretValue`. With it, the first run in a day pays it and later runs go straight to
//! `GetSecretValue`.
//!
//! The file (`$ECS_ENV_CACHE_DIR`, else `$XDG_CACHE_HOME/ecs-env`, else
//! `$HOME/.cache/ecs-env`, then `capabilities.json`) holds no value, no name and no
//! access key id: each entry is a SHA-256 digest of the access key id, the configured
//! endpoint and the region, with an expiry time. It is written atomically with mode 0600.
//! A memory that cannot be read or written costs only that round trip, so problems with it
//! are logged at debug level and otherwise ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// How long a denial is believed. A day: a permission granted today is used from tomorrow,
/// and an identity without it pays one extra round trip per region per day.
const DENIAL_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

const FILE_NAME: &str = "capabilities.json";

/// The denials known for one identity.
#[derive(Debug)]
pub(crate) struct Memory {
    /// Where the file lives; `None` when no cache directory is known.
    path: Option<PathBuf>,
    /// Digest of what identifies the caller, before the region is added.
    identity: String,
    /// Entry key → expiry (seconds since the epoch), for every identity in the file.
    entries: BTreeMap<String, u64>,
}

impl Memory {
    /// Load the memory for the identity made of these parts (access key id, endpoint).
    pub(crate) fn load(identity: &[&str]) -> Memory {
        Self::load_from(cache_dir().map(|d| d.join(FILE_NAME)), identity)
    }

    fn load_from(path: Option<PathBuf>, identity: &[&str]) -> Memory {
        let entries = path
            .as_deref()
            // Bounded, without following a link or blocking on a planted FIFO.
            .and_then(|p| match crate::files::read_bounded(p, MAX_FILE_BYTES, false) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    tracing::debug!(path = %p.display(), error = %e, "cannot read the capability memory");
                    None
                }
            })
            .and_then(|bytes| parse(&bytes))
            .unwrap_or_default();
        Memory {
            path,
            identity: digest(identity),
            entries,
        }
    }

    /// `BatchGetSecretValue` was denied to this identity in this region less than a day ago.
    pub(crate) fn batch_denied(&self, region: &str) -> bool {
        self.entries
            .get(&self.key(region))
            .is_some_and(|&expiry| expiry > now())
    }

    /// Remember that `BatchGetSecretValue` was denied in these regions, and save.
    pub(crate) fn remember_batch_denied(&mut self, regions: &[String]) {
        let now = now();
        self.entries.retain(|_, &mut expiry| expiry > now);
        for region in regions {
            self.entries
                .insert(self.key(region), now + DENIAL_LIFETIME.as_secs());
        }
        if let Some(path) = &self.path {
            match save(path, &self.entries) {
                Ok(()) => {
                    tracing::debug!(path = %path.display(), ?regions, "remembered that BatchGetSecretValue is denied")
                }
                Err(e) => {
                    tracing::debug!(path = %path.display(), error = %e, "cannot save the capability memory")
                }
            }
        }
    }

    fn key(&self, region: &str) -> String {
        format!("batch-denied:{}", digest(&[&self.identity, region]))
    }
}

/// The cache directory, by the XDG convention.
fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("ECS_ENV_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("ecs-env"))
}

/// The memory is a few hundred bytes; anything much larger is not ours.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Hex SHA-256 of the parts, each followed by a NUL so that ("ab", "c") ≠ ("a", "bc").
fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `{"version": 1, "entries": {"key": expiry}}`; anything else is ignored (and overwritten
/// by the next save).
fn parse(bytes: &[u8]) -> Option<BTreeMap<String, u64>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if value.get("version")?.as_u64()? != 1 {
        return None;
    }
    let entries = value.get("entries")?.as_object()?;
    Some(
        entries
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
            .collect(),
    )
}

/// Write privately and atomically (`files::replace`) in a private directory: one of ours is
/// narrowed to 0700, someone else's that others can write to is not used.
fn save(path: &Path, entries: &BTreeMap<String, u64>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::files::private_dir(dir)?;
    let body = serde_json::json!({ "version": 1, "entries": entries });
    crate::files::replace(path, body.to_string().as_bytes(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ecs-env-capabilities-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("nested").join(FILE_NAME)
    }

    #[test]
    fn a_denial_is_remembered_per_identity_and_region() {
        let path = scratch("remember");
        let mut memory = Memory::load_from(Some(path.clone()), &["AKIAEXAMPLE", ""]);
        assert!(!memory.batch_denied("us-east-1"));
        memory.remember_batch_denied(&["us-east-1".to_owned()]);

        let again = Memory::load_from(Some(path.clone()), &["AKIAEXAMPLE", ""]);
        assert!(again.batch_denied("us-east-1"));
        assert!(!again.batch_denied("eu-west-1"));
        let other = Memory::load_from(Some(path.clone()), &["AKIAOTHER", ""]);
        assert!(!other.batch_denied("us-east-1"));
        let other_endpoint =
            Memory::load_from(Some(path.clone()), &["AKIAEXAMPLE", "http://127.0.0.1:1"]);
        assert!(!other_endpoint.batch_denied("us-east-1"));

        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("AKIAEXAMPLE"),
            "the access key id is stored: {text}"
        );
        assert!(
            !text.contains("us-east-1"),
            "the region is stored in clear: {text}"
        );
    }

    #[test]
    fn an_expired_denial_is_forgotten() {
        let path = scratch("expired");
        let mut memory = Memory::load_from(Some(path.clone()), &["AKIAEXAMPLE"]);
        let key = memory.key("us-east-1");
        memory.entries.insert(key.clone(), now() - 1);
        assert!(!memory.batch_denied("us-east-1"));
        memory.remember_batch_denied(&["eu-west-1".to_owned()]);
        assert!(
            !memory.entries.contains_key(&key),
            "expired entries are pruned"
        );
    }

    #[test]
    fn a_damaged_or_missing_file_is_an_empty_memory() {
        let path = scratch("damaged");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"{not json").unwrap();
        let memory = Memory::load_from(Some(path), &["AKIAEXAMPLE"]);
        assert!(!memory.batch_denied("us-east-1"));
        let mut nowhere = Memory::load_from(None, &["AKIAEXAMPLE"]);
        nowhere.remember_batch_denied(&["us-east-1".to_owned()]);
        assert!(
            nowhere.batch_denied("us-east-1"),
            "remembered for this run at least"
        );
    }
}
