//! Files that hold values or the capability memory: written so that nobody else can read
//! them, nothing planted in a shared directory can redirect them, and a device or pipe named
//! as the output is written as such instead of being replaced by a file on disk. Reads of
//! untrusted files are bounded and never block on a FIFO.
//!
//! - [`replace`]: a regular file (or a new one) is replaced atomically: a temporary file with
//!   an unpredictable name, created with `O_EXCL | O_NOFOLLOW` and mode 0600 in the same
//!   directory, flushed, then renamed over the target. A character device, FIFO or socket
//!   (`/dev/stdout`, `>(cmd)`) is opened and written in place; a symbolic link is followed
//!   to the file it names; a directory or anything else is refused.
//! - [`open_append`]: `$GITHUB_ENV`: opened with `O_NOFOLLOW` (a link is refused), created 0600,
//!   and a file of ours readable by others is narrowed to 0600 first.
//! - [`read_bounded`]: a regular file of at most `cap` bytes, opened with `O_NONBLOCK |
//!   O_NOFOLLOW` semantics where asked, so a planted FIFO or `/dev/zero` cannot hang or
//!   exhaust memory.
//! - [`private_dir`]: a directory of ours with mode 0700; one that others can write to and
//!   that is not ours is refused.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Replace `path` with `data`, privately and atomically (see the module docs). With
/// `follow_links: false` a symbolic link at `path` is refused instead of followed.
pub(crate) fn replace(path: &Path, data: &[u8], follow_links: bool) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {}
        Ok(meta) if meta.file_type().is_symlink() && !follow_links => {
            return Err(io::Error::other(
                "it is a symbolic link, which is not followed",
            ));
        }
        Ok(meta) if meta.file_type().is_symlink() => {
            // `/dev/stdout` and `>(cmd)` (`/dev/fd/N`) are links to a terminal or a pipe; a
            // link to a regular file is followed, and the file it names is replaced.
            let target = std::fs::metadata(path)?;
            if is_stream(&target) {
                return write_in_place(path, data);
            }
            if target.is_file() {
                return replace(&std::fs::canonicalize(path)?, data, false);
            }
            return Err(io::Error::other(
                "it links to something that is not a regular file, device or pipe",
            ));
        }
        Ok(meta) if is_stream(&meta) => return write_in_place(path, data),
        Ok(_) => return Err(io::Error::other("not a regular file, device or pipe")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("not a file path"))?
        .to_string_lossy();
    let (temporary, mut file) = create_temporary(dir, &name)?;
    let result = file
        .write_all(data)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// A device or pipe, written as such (no create, no truncate).
fn write_in_place(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut out = OpenOptions::new().write(true).open(path)?;
    out.write_all(data).and_then(|()| out.flush())
}

/// Opens `path` for reading and appending (created 0600), refusing a symbolic link. An
/// existing file of ours that others can read is narrowed to 0600 before anything is
/// written.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    private(&mut options, true);
    let file = options.open(path).map_err(|e| link_refused(e, path))?;
    narrow(&file)?;
    Ok(file)
}

/// The bytes of a regular file of at most `cap` bytes. Opened without blocking, so a FIFO
/// planted in its place is refused instead of waited on; `follow_links: false` also refuses
/// a symbolic link.
pub(crate) fn read_bounded(path: &Path, cap: u64, follow_links: bool) -> io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    nonblocking(&mut options, !follow_links);
    let file = options.open(path).map_err(|e| link_refused(e, path))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.len() > cap {
        return Err(too_large(cap));
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(bytes)
}

/// The UTF-8 text of a regular file of at most `cap` bytes ([`read_bounded`], following
/// links); not UTF-8 is an error naming the offset, never the bytes.
pub(crate) fn read_text(path: &Path, cap: u64) -> io::Result<String> {
    let bytes = read_bounded(path, cap, true)?;
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Every configuration, task definition, variables file and override file: no real one comes
/// near this.
pub(crate) const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// Terraform state, which for a large configuration can be tens of megabytes.
pub(crate) const MAX_STATE_BYTES: u64 = 256 << 20;

/// The error for a file over `cap` bytes, naming the limit.
pub(crate) fn too_large(cap: u64) -> io::Error {
    let limit = if cap >= 1 << 20 {
        format!("{} MiB", cap >> 20)
    } else {
        format!("{} KiB", cap >> 10)
    };
    io::Error::other(format!("larger than {limit}, the limit for this file"))
}

/// Creates `dir` (and its parents) with mode 0700, or checks an existing one: ours, it is
/// narrowed to 0700; someone else's that others can write to is refused, since a file in it
/// could be replaced or planted.
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(io::Error::other("not a directory"));
        }
        let mode = meta.mode() & 0o7777;
        if meta.uid() == nix::unistd::geteuid().as_raw() {
            if mode & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
        } else if mode & 0o022 != 0 {
            return Err(io::Error::other(
                "the directory belongs to another user and others can write to it",
            ));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A new file `.NAME.ecs-env-RANDOM.tmp` in `dir`, created exclusively, never through a link.
fn create_temporary(dir: &Path, name: &str) -> io::Result<(std::path::PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let temporary = dir.join(format!(".{name}.ecs-env-{:016x}.tmp", random()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        private(&mut options, true);
        match options.open(&temporary) {
            Ok(file) => return Ok((temporary, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// OS-seeded randomness without a dependency: every `RandomState` gets fresh keys.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// A character device, FIFO or socket: written in place, never replaced by a file.
fn is_stream(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        t.is_char_device() || t.is_fifo() || t.is_socket()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Mode 0600 for a created file; `no_follow`: refuse a symbolic link as the last component.
fn private(options: &mut OpenOptions, no_follow: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        if no_follow {
            options.custom_flags(nix::libc::O_NOFOLLOW);
        }
    }
    #[cfg(not(unix))]
    let _ = (options, no_follow);
}

/// Open without blocking (a FIFO with no writer would block a read-only open).
fn nonblocking(options: &mut OpenOptions, no_follow: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_follow { nix::libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(nix::libc::O_NONBLOCK | follow);
    }
    #[cfg(not(unix))]
    let _ = (options, no_follow);
}

/// An existing file of ours that group or others can read becomes 0600.
fn narrow(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        if meta.mode() & 0o077 != 0 && meta.uid() == nix::unistd::geteuid().as_raw() {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// `ELOOP` from `O_NOFOLLOW` says "symbolic link", not "too many levels".
fn link_refused(e: io::Error, path: &Path) -> io::Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(nix::libc::ELOOP) {
        let _ = path;
        return io::Error::other("it is a symbolic link, which is not followed");
    }
    let _ = path;
    e
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ecs-env-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replace_is_private_and_atomic_and_leaves_no_temporary() {
        let dir = scratch("replace");
        let path = dir.join("out.env");
        replace(&path, b"A=1\n", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"A=1\n");
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        replace(&path, b"A=2\n", true).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn devices_and_fifos_are_written_in_place_and_links_refused() {
        let dir = scratch("special");
        replace(Path::new("/dev/null"), b"A=1\n", true).unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
        let target = dir.join("target");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("link")).unwrap();
        // Appending never follows a link; replacing replaces the file the link names.
        assert!(open_append(&dir.join("link")).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(replace(&dir.join("link"), b"new", false).is_err());
        replace(&dir.join("link"), b"new", true).unwrap();
        assert!(
            std::fs::symlink_metadata(dir.join("link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(mode(&target), 0o600);
        assert!(replace(&dir, b"x", true).is_err());
    }

    #[test]
    fn append_narrows_a_readable_file_of_ours() {
        let dir = scratch("append");
        let path = dir.join("github_env");
        std::fs::write(&path, "X=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_append(&path).unwrap().write_all(b"Y=2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "X=1\nY=2\n");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn bounded_reads_refuse_fifos_devices_and_big_files() {
        let dir = scratch("read");
        let fifo = dir.join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(read_bounded(&fifo, 10, true).is_err());
        assert!(read_bounded(Path::new("/dev/zero"), 10, true).is_err());
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; 11]).unwrap();
        let e = read_bounded(&big, 10, true).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert_eq!(read_bounded(&big, 11, true).unwrap().len(), 11);
        std::os::unix::fs::symlink(&big, dir.join("link")).unwrap();
        assert!(read_bounded(&dir.join("link"), 11, false).is_err());
        assert!(read_bounded(&dir.join("link"), 11, true).is_ok());
    }

    #[test]
    fn private_dirs_are_narrowed() {
        let dir = scratch("dir").join("cache");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }
}
