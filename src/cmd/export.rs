//! `ecs-env export`: the task's variables in a chosen format, masked unless `--reveal`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::cli::ExportArgs;
use crate::error::Error;
use crate::export::{self, Format, Var};
use crate::resolve::Origin;

pub(crate) fn execute(args: &ExportArgs) -> Result<u8, Error> {
    let env = super::run::resolve_environment(&args.source, &args.aws, &args.local)?;
    let vars: Vec<Var<'_>> = env
        .task_vars()
        .map(|(name, origin, value)| Var {
            name,
            value: value.expose(),
            // Values from `secrets` and environment files (often secrets kept in S3) are
            // masked; `environment` values and the injected region are in the task
            // definition in plain text.
            secret: matches!(origin, Origin::Secret | Origin::EnvironmentFile),
        })
        .collect();
    let format = args.format;
    let rendered = export::render_all(format, &vars, !args.reveal).map_err(Error::Refused)?;

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&rendered.masks).map_err(Error::Output)?;
    match &args.output {
        None => stdout.write_all(&rendered.body).map_err(Error::Output)?,
        Some(path) if format == Format::Github => append_private(path, &rendered.body)?,
        Some(path) => write_private(path, &rendered.body)?,
    }
    stdout.flush().map_err(Error::Output)?;
    Ok(crate::exit::SUCCESS)
}

/// Replace `path` atomically with a file of mode 0600: write a temporary file beside it
/// (created 0600 from the start, never wider), flush it to disk, then rename it over.
fn write_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    let fail = |source| Error::WriteFile {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| fail(std::io::Error::other("not a file path")))?;
    let tmp = dir.join(format!(
        ".{}.ecs-env-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = private().write(true).create_new(true).open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Append to `path` (as $GITHUB_ENV expects), creating it with mode 0600.
fn append_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    let fail = |source| Error::WriteFile {
        path: path.to_owned(),
        source,
    };
    let mut file = private()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(fail)?;
    // An entry must start on a line of its own: the runner reads `NAME<<DELIMITER` headers
    // by line.
    if !ends_with_newline(&mut file).map_err(fail)? {
        file.write_all(b"\n").map_err(fail)?;
    }
    file.write_all(data).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// Whether the file is empty or its last byte is a newline.
fn ends_with_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Options that create files readable by the owner only.
fn private() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}
