//! `ecs-env export`: the task's variables in a chosen format, masked unless `--reveal`.

use std::io::Write;
use std::path::Path;

use crate::cli::ExportArgs;
use crate::error::Error;
use crate::export::{self, Format, Var};
use crate::resolve::Origin;

pub(crate) fn execute(args: &ExportArgs) -> Result<u8, Error> {
    let env = super::run::resolve_environment(&args.source, &args.aws, &args.role, &args.local)?;
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

/// Replace `path` with a private file (or write a device or pipe in place): `files::replace`.
fn write_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    crate::files::replace(path, data, true).map_err(|source| Error::WriteFile {
        path: path.to_owned(),
        source,
    })
}

/// Append to `path` (as $GITHUB_ENV expects), created 0600, never through a link.
fn append_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    let fail = |source| Error::WriteFile {
        path: path.to_owned(),
        source,
    };
    let mut file = crate::files::open_append(path).map_err(fail)?;
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
