//! The local stage: the laptop's side of the merge. What the command would inherit, which
//! inherited variables win, and the local overrides (`--override`, `--override-file`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::Error;
use crate::resolve::{Local, Preserve};
use crate::secret::SecretValue;

/// Inherited variables kept by `--pristine` (plus every `LC_*`).
const PRISTINE_ALLOWLIST: [&str; 9] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR",
];

/// What the command starts from before the task's variables are applied.
#[derive(Debug, Clone, Default)]
pub(crate) enum Base {
    /// This process's whole environment.
    #[default]
    Inherit,
    /// This process's environment, only the `--pristine` allowlist plus these names.
    Pristine { keep: Vec<String> },
    /// Exactly this (the library: a harness decides what its child inherits).
    Given(BTreeMap<OsString, OsString>),
}

/// The local flags, validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalSpec {
    pub(crate) base: Base,
    pub(crate) preserve: Preserve,
    /// `--override-file`s, in order; read by [`LocalSpec::local`].
    pub(crate) override_files: Vec<PathBuf>,
    /// `--override`s, in order; they win over the files.
    pub(crate) overrides: Vec<(String, SecretValue)>,
}

impl LocalSpec {
    /// The merge's local side: reads the override files and the inherited environment. The
    /// task region is filled in by the pipeline.
    pub(crate) fn local(&self) -> Result<Local, Error> {
        Ok(Local {
            base: self.base_environment(),
            preserve: self.preserve.clone(),
            overrides: self.all_overrides()?,
            ..Local::default()
        })
    }

    fn base_environment(&self) -> BTreeMap<OsString, OsString> {
        match &self.base {
            Base::Inherit => std::env::vars_os().collect(),
            Base::Given(map) => map.clone(),
            Base::Pristine { keep } => std::env::vars_os()
                .filter(|(name, _)| {
                    let name = name.to_string_lossy();
                    PRISTINE_ALLOWLIST.contains(&name.as_ref())
                        || name.starts_with("LC_")
                        || keep.iter().any(|k| *k == name)
                })
                .collect(),
        }
    }

    /// Override files in order, then single overrides: the later one wins.
    fn all_overrides(&self) -> Result<BTreeMap<String, SecretValue>, Error> {
        let mut out = BTreeMap::new();
        for path in &self.override_files {
            for (name, value) in read_override_file(path)? {
                out.insert(name, value);
            }
        }
        for (name, value) in &self.overrides {
            out.insert(name.clone(), value.clone());
        }
        Ok(out)
    }
}

/// `--preserve-env` (all) or `--preserve-env=A,B` (these names).
pub(crate) fn preserve(names: Option<&[String]>) -> Preserve {
    match names {
        None => Preserve::None,
        Some(names) => {
            let names: BTreeSet<String> = names.iter().filter(|n| !n.is_empty()).cloned().collect();
            if names.is_empty() {
                Preserve::All
            } else {
                Preserve::Names(names)
            }
        }
    }
}

fn read_override_file(path: &std::path::Path) -> Result<Vec<(String, SecretValue)>, Error> {
    let file_error = |message: String| Error::OverrideFile {
        path: path.to_owned(),
        message,
    };
    // Read bounded first: dotenvy would read a planted /dev/zero until memory runs out.
    let bytes = crate::files::read_bounded(path, crate::files::MAX_SOURCE_BYTES, true)
        .map_err(|e| file_error(e.to_string()))?;
    let bytes = zeroize::Zeroizing::new(bytes);
    let iter = dotenvy::from_read_iter(&bytes[..]);
    iter.map(|item| {
        item.map(|(k, v)| (k, SecretValue::new(v)))
            .map_err(|e| file_error(dotenv_error(&e)))
    })
    .collect()
}

/// dotenvy's parse errors quote the offending line, which holds a value: keep only where.
fn dotenv_error(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => {
            format!(
                "dotenv syntax error at character {index} of a line (the line is not shown: it may hold a value)"
            )
        }
        dotenvy::Error::Io(io) => io.to_string(),
        _ => "a variable it refers to could not be read".to_owned(),
    }
}
