//! Files a configuration names (`file()`, `templatefile()`, `fileexists()`): read only inside
//! the configuration's own directories.
//!
//! A configuration can come from someone else's branch, and what `file()` returns can end up
//! in a variable name or a `valueFrom` that `check --offline`, `policy` and every failure
//! report print. Unconfined, `file("/proc/self/environ")` would print ecs-env's own AWS keys
//! into a CI log with no AWS access at all. So a path is allowed only when, after every
//! symbolic link is resolved, it lies inside the root module's directory or the directory of
//! a module the configuration loads (local modules and those `terraform init` installed),
//! and names a regular file of at most [`MAX_FILE_BYTES`]. Devices, FIFOs, sockets and the
//! kernel's pseudo-filesystems are refused wherever they are. A path outside the tree is
//! refused with the same words whether or not something exists there, so a refusal does not
//! reveal what is on the machine; and no refusal quotes a byte of any file.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The largest file `file()` or `templatefile()` reads: the limit ecs-env puts on every
/// task definition source.
pub(crate) const MAX_FILE_BYTES: u64 = crate::files::MAX_SOURCE_BYTES;

/// Pseudo-filesystems whose files are never configuration, even inside an allowed tree.
const PSEUDO: &[&str] = &["/proc", "/sys", "/dev"];

/// Why a configuration may not read a path. No variant carries file content.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The path resolves (through links or `..`) outside every allowed directory.
    Outside,
    /// The path exists but is not a regular file (a directory, device, FIFO or socket).
    NotRegular,
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// Not UTF-8 text.
    NotText,
    /// Inside the tree, but reading it failed (it does not exist, or permissions).
    Io(std::io::ErrorKind),
}

impl Refusal {
    /// What went wrong, for a problem that also names the path as the configuration wrote it.
    pub(crate) fn message(&self) -> String {
        match self {
            Refusal::Outside => {
                "refused: the path is outside the configuration's directories".to_owned()
            }
            Refusal::NotRegular => "refused: not a regular file".to_owned(),
            Refusal::TooLarge => format!("refused: larger than {} MiB", MAX_FILE_BYTES >> 20),
            Refusal::NotText => "not UTF-8 text".to_owned(),
            Refusal::Io(kind) => format!("cannot read it: {kind}"),
        }
    }

    /// What would fix it.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            Refusal::Outside => {
                "ecs-env reads files only inside the root module's directory and the directories of the modules it loads (after resolving links); move the file there, or write it into a .tfvars file"
            }
            Refusal::Io(std::io::ErrorKind::NotFound) => {
                "relative paths start at the root module's directory, as in Terraform; inside a module write \"${path.module}/FILE\""
            }
            _ => "",
        }
    }
}

/// The directories a configuration may read files from, each canonical.
#[derive(Debug, Default)]
pub(crate) struct Confinement {
    roots: Vec<PathBuf>,
}

impl Confinement {
    /// Allows `dir` and everything below it. A directory that cannot be resolved allows
    /// nothing (its module could not have been read either).
    pub(crate) fn allow(&mut self, dir: &Path) {
        if let Ok(dir) = dir.canonicalize()
            && !self.roots.contains(&dir)
        {
            self.roots.push(dir);
        }
    }

    /// Whether a canonical path is inside an allowed directory and outside the kernel's
    /// pseudo-filesystems.
    pub(crate) fn allows(&self, canonical: &Path) -> bool {
        !PSEUDO.iter().any(|p| canonical.starts_with(p))
            && self.roots.iter().any(|r| canonical.starts_with(r))
    }

    /// Where `path` really is, if it is allowed: `Ok(Some)` for an existing path, `Ok(None)`
    /// for one that does not exist inside the tree.
    pub(crate) fn located(&self, path: &Path) -> Result<Option<PathBuf>, Refusal> {
        match path.canonicalize() {
            Ok(canonical) if self.allows(&canonical) => Ok(Some(canonical)),
            Ok(_) => Err(Refusal::Outside),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Judge a missing path by its nearest existing ancestor, so that "not found"
                // is said only inside the tree and never reveals what exists outside it.
                let mut ancestor = path;
                while let Some(parent) = ancestor.parent() {
                    ancestor = parent;
                    if let Ok(canonical) = ancestor.canonicalize() {
                        return if self.allows(&canonical) && !climbs(path, ancestor) {
                            Ok(None)
                        } else {
                            Err(Refusal::Outside)
                        };
                    }
                }
                Err(Refusal::Outside)
            }
            // Anything else (a loop of links, permissions on a parent): refuse without
            // saying more, as for a path outside.
            Err(_) => Err(Refusal::Outside),
        }
    }

    /// `fileexists()`: whether a regular file exists at `path`; an error for a path outside
    /// the tree or one that is not a regular file, as Terraform errors for the latter.
    pub(crate) fn exists(&self, path: &Path) -> Result<bool, Refusal> {
        match self.located(path)? {
            None => Ok(false),
            Some(canonical) => match std::fs::metadata(&canonical) {
                Ok(m) if m.is_file() => Ok(true),
                Ok(_) => Err(Refusal::NotRegular),
                Err(e) => Err(Refusal::Io(e.kind())),
            },
        }
    }

    /// `file()` and `templatefile()`: the text of a regular file inside the tree, read with a
    /// cap. The file is opened without following a final link and without blocking (a FIFO
    /// swapped in after the check is then seen as one, and refused), and its type is judged
    /// on the open descriptor.
    pub(crate) fn read(&self, path: &Path) -> Result<String, Refusal> {
        String::from_utf8(self.read_bytes(path)?).map_err(|_| Refusal::NotText)
    }

    /// `filebase64()`, `filemd5()` and the other hashes: the bytes of a regular file inside
    /// the tree, read as [`Confinement::read`] reads it.
    pub(crate) fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, Refusal> {
        let Some(canonical) = self.located(path)? else {
            return Err(Refusal::Io(std::io::ErrorKind::NotFound));
        };
        let file = open_no_follow(&canonical).map_err(|e| Refusal::Io(e.kind()))?;
        let meta = file.metadata().map_err(|e| Refusal::Io(e.kind()))?;
        if !meta.is_file() {
            return Err(Refusal::NotRegular);
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(Refusal::TooLarge);
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Refusal::Io(e.kind()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Refusal::TooLarge);
        }
        Ok(bytes)
    }
}

/// Whether the part of `path` below `ancestor` climbs out with `..`: a missing directory
/// followed by `..` must not let a path walk out of the tree lexically.
fn climbs(path: &Path, ancestor: &Path) -> bool {
    path.strip_prefix(ancestor)
        .map(|rest| rest.components().any(|c| c == Component::ParentDir))
        .unwrap_or(true)
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory tree: `root/` allowed, `outside/` beside it.
    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str) -> Tree {
            let dir =
                std::env::temp_dir().join(format!("ecs-env-files-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("root/sub")).unwrap();
            std::fs::create_dir_all(dir.join("outside")).unwrap();
            std::fs::write(dir.join("root/sub/ok.txt"), "inside").unwrap();
            std::fs::write(dir.join("outside/secret.txt"), "CANARY-outside").unwrap();
            Tree(dir)
        }
        fn confinement(&self) -> Confinement {
            let mut c = Confinement::default();
            c.allow(&self.0.join("root"));
            c
        }
        fn p(&self, rel: &str) -> PathBuf {
            self.0.join(rel)
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn reads_inside_and_refuses_outside_alike_whether_or_not_it_exists() {
        let t = Tree::new("outside");
        let c = t.confinement();
        assert_eq!(c.read(&t.p("root/sub/ok.txt")).unwrap(), "inside");
        assert_eq!(
            c.read(&t.p("root/../outside/secret.txt")),
            Err(Refusal::Outside)
        );
        assert_eq!(
            c.read(&t.p("root/../outside/none.txt")),
            Err(Refusal::Outside)
        );
        assert_eq!(
            c.read(&t.p("root/nope/../../outside/secret.txt")),
            Err(Refusal::Outside)
        );
        // A missing directory followed by `..` is judged as climbing out.
        assert_eq!(
            c.read(&t.p("root/nope/../sub/ok.txt")),
            Err(Refusal::Outside)
        );
        assert_eq!(
            c.read(&t.p("root/sub/none.txt")),
            Err(Refusal::Io(std::io::ErrorKind::NotFound))
        );
        assert_eq!(c.read(Path::new("/etc/passwd")), Err(Refusal::Outside));
        assert_eq!(
            c.read(Path::new("/proc/self/environ")),
            Err(Refusal::Outside)
        );
        assert_eq!(c.exists(&t.p("root/sub/ok.txt")), Ok(true));
        assert_eq!(c.exists(&t.p("root/sub/none.txt")), Ok(false));
        assert_eq!(c.exists(&t.p("outside/secret.txt")), Err(Refusal::Outside));
        assert_eq!(c.exists(&t.p("outside/none.txt")), Err(Refusal::Outside));
        assert_eq!(c.exists(&t.p("root/sub")), Err(Refusal::NotRegular));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_judged_by_their_target() {
        let t = Tree::new("links");
        let c = t.confinement();
        std::os::unix::fs::symlink(t.p("outside/secret.txt"), t.p("root/link.txt")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", t.p("root/environ")).unwrap();
        std::os::unix::fs::symlink(t.p("outside"), t.p("root/dir")).unwrap();
        std::os::unix::fs::symlink(t.p("root/sub/ok.txt"), t.p("root/good.txt")).unwrap();
        assert_eq!(c.read(&t.p("root/link.txt")), Err(Refusal::Outside));
        assert_eq!(c.read(&t.p("root/environ")), Err(Refusal::Outside));
        assert_eq!(c.read(&t.p("root/dir/secret.txt")), Err(Refusal::Outside));
        assert_eq!(c.exists(&t.p("root/dir/none.txt")), Err(Refusal::Outside));
        assert_eq!(c.read(&t.p("root/good.txt")).unwrap(), "inside");
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_pseudo_files_are_refused_even_inside() {
        let t = Tree::new("special");
        let mut c = t.confinement();
        let made = std::process::Command::new("mkfifo")
            .arg(t.p("root/fifo"))
            .status()
            .unwrap();
        assert!(made.success());
        // A FIFO inside the tree: refused, and the read does not block on it.
        assert_eq!(c.read(&t.p("root/fifo")), Err(Refusal::NotRegular));
        // Even a configuration rooted at / cannot read the kernel's pseudo-files.
        c.allow(Path::new("/"));
        assert_eq!(
            c.read(Path::new("/proc/self/environ")),
            Err(Refusal::Outside)
        );
        assert_eq!(c.read(Path::new("/dev/zero")), Err(Refusal::Outside));
        assert_eq!(c.exists(Path::new("/dev/null")), Err(Refusal::Outside));
    }

    #[test]
    fn size_is_capped_and_refusals_quote_nothing() {
        let t = Tree::new("size");
        let c = t.confinement();
        let big = std::fs::File::create(t.p("root/big")).unwrap();
        big.set_len(MAX_FILE_BYTES + 1).unwrap();
        assert_eq!(c.read(&t.p("root/big")), Err(Refusal::TooLarge));
        std::fs::write(t.p("root/bin"), [0xff, 0xfe, b'C']).unwrap();
        assert_eq!(c.read(&t.p("root/bin")), Err(Refusal::NotText));
        for r in [
            Refusal::Outside,
            Refusal::NotRegular,
            Refusal::TooLarge,
            Refusal::NotText,
        ] {
            assert!(!r.message().contains("CANARY"));
        }
    }
}
