//! One module per subcommand: the glue between the command line and the pipeline. This is
//! the only layer that sees both `cli` and everything else; `args` turns flags into the
//! pipeline's validated settings before any work is done.

mod args;
pub(crate) mod check;
pub(crate) mod docs;
pub(crate) mod export;
pub(crate) mod policy;
pub(crate) mod run;
#[cfg(unix)]
pub(crate) mod watch;
// Windows cannot supervise: `--watch` and `--task-role` are a clear error there. Compiled in
// Unix tests too, so that the error is tested where the tests run.
#[cfg(any(not(unix), test))]
pub(crate) mod no_supervisor;
#[cfg(not(unix))]
pub(crate) use no_supervisor as watch;

use std::ffi::OsString;

use crate::cli::RunArgs;
use crate::error::Error;

/// The command after `--`, split into program and arguments.
fn command(args: &RunArgs) -> Result<(&OsString, &[OsString]), Error> {
    args.command.split_first().ok_or_else(|| Error::Usage {
        message: "no command given".to_owned(),
        hint: Some(
            "put the command after `--`: `ecs-env -f task-definition.json -- COMMAND [ARGS...]`"
                .to_owned(),
        ),
    })
}
