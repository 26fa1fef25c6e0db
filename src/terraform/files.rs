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
//!
//! The evaluator reaches files only through [`FileAccess`], which [`Confinement`] implements:
//! the functions themselves are pure, and all of their I/O is here, at the edge.

use std::ffi::OsString;
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

/// What a path names, links followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// Anything else: a device, a FIFO, a socket.
    Other,
    /// Nothing: the path does not exist.
    Missing,
}

/// One entry of a directory, as [`FileAccess::list`] yields it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Its name in the directory.
    pub(crate) name: OsString,
    /// [`Kind::Dir`] only for a directory that is not a link, so that a walk never goes round
    /// a loop of links; [`Kind::File`] for a regular file, through a link too; [`Kind::Other`]
    /// for anything else, a link to a directory included.
    pub(crate) kind: Kind,
}

/// The entries [`FileAccess::list`] yields, one at a time.
pub(crate) type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, Refusal>> + 'a>;

/// How the file functions (`file`, `fileexists`, `fileset`, `templatefile`, `filebase64`, the
/// `file*` hashes) reach files. The evaluator holds one and the functions read through it
/// alone, so that they are pure and the I/O is at the edge: [`Confinement`] is the real one,
/// and a test or another caller can supply its own (an in-memory tree).
///
/// Only the files a configuration *names* go through it. Loading modules, listing `.tfvars`
/// files, and reading the backend configuration, the state or the modules manifest do not:
/// those are configuration sources, chosen by whoever runs ecs-env rather than written in the
/// configuration, and so are deliberately not confined.
///
/// Every error is a [`Refusal`], which carries no file content. `Debug` because the evaluator,
/// which holds one, is.
pub(crate) trait FileAccess: std::fmt::Debug {
    /// What `path` names, links followed.
    fn stat(&self, path: &Path) -> Result<Kind, Refusal>;

    /// The bytes of the regular file at `path`, at most [`MAX_FILE_BYTES`] of them.
    fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, Refusal>;

    /// The entries of the directory `dir`, in no particular order. Lazily, so that a walk can
    /// stop at its bound without reading the rest of a huge directory; an entry that may not
    /// be looked at is an `Err`, for the walk to count and skip.
    fn list(&self, dir: &Path) -> Result<Entries<'_>, Refusal>;

    /// A directory the configuration loads a module from: its files are the configuration's
    /// too. Ignored unless the implementation confines what it reads.
    fn allow(&mut self, _dir: &Path) {}

    /// `file()` and `templatefile()`: the text of a regular file.
    fn read(&self, path: &Path) -> Result<String, Refusal> {
        String::from_utf8(self.read_bytes(path)?).map_err(|_| Refusal::NotText)
    }

    /// `fileexists()`: whether a regular file exists at `path`; an error for one that is not
    /// a regular file, as Terraform errors for it.
    fn exists(&self, path: &Path) -> Result<bool, Refusal> {
        match self.stat(path)? {
            Kind::File => Ok(true),
            Kind::Missing => Ok(false),
            Kind::Dir | Kind::Other => Err(Refusal::NotRegular),
        }
    }
}

/// The directories a configuration may read files from, each canonical.
#[derive(Debug, Default)]
pub(crate) struct Confinement {
    roots: Vec<PathBuf>,
}

impl Confinement {
    /// Whether a canonical path is inside an allowed directory and outside the kernel's
    /// pseudo-filesystems.
    fn allows(&self, canonical: &Path) -> bool {
        !PSEUDO.iter().any(|p| canonical.starts_with(p))
            && self.roots.iter().any(|r| canonical.starts_with(r))
    }

    /// Where `path` really is, if it is allowed: `Ok(Some)` for an existing path, `Ok(None)`
    /// for one that does not exist inside the tree.
    fn located(&self, path: &Path) -> Result<Option<PathBuf>, Refusal> {
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
}

impl FileAccess for Confinement {
    /// A path outside the tree is refused whether or not something exists there.
    fn stat(&self, path: &Path) -> Result<Kind, Refusal> {
        let Some(canonical) = self.located(path)? else {
            return Ok(Kind::Missing);
        };
        match std::fs::metadata(&canonical) {
            Ok(m) if m.is_file() => Ok(Kind::File),
            Ok(m) if m.is_dir() => Ok(Kind::Dir),
            Ok(_) => Ok(Kind::Other),
            Err(e) => Err(Refusal::Io(e.kind())),
        }
    }

    /// Only a regular file inside the tree, read with a cap. The file is opened without
    /// following a final link and without blocking (a FIFO swapped in after the check is then
    /// seen as one, and refused), and its type is judged on the open descriptor.
    fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, Refusal> {
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

    /// Only a directory inside the tree; an entry is refused unless it lies inside the tree
    /// once links are resolved, so a link out of it is neither followed nor named.
    fn list(&self, dir: &Path) -> Result<Entries<'_>, Refusal> {
        if self.located(dir)?.is_none() {
            return Err(Refusal::Io(std::io::ErrorKind::NotFound));
        }
        let read = std::fs::read_dir(dir).map_err(|e| Refusal::Io(e.kind()))?;
        Ok(Box::new(read.flatten().map(|entry| {
            let path = entry.path();
            if !path.canonicalize().is_ok_and(|c| self.allows(&c)) {
                return Err(Refusal::Outside);
            }
            let kind = match entry.file_type() {
                Ok(t) if t.is_dir() => Kind::Dir,
                _ if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) => Kind::File,
                _ => Kind::Other,
            };
            Ok(Entry {
                name: entry.file_name(),
                kind,
            })
        })))
    }

    /// Allows `dir` and everything below it. A directory that cannot be resolved allows
    /// nothing (its module could not have been read either).
    fn allow(&mut self, dir: &Path) {
        if let Ok(dir) = dir.canonicalize()
            && !self.roots.contains(&dir)
        {
            self.roots.push(dir);
        }
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
