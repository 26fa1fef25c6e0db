//! One module per subcommand: the glue between the command line, the core and the edges.
//! This is the only layer that sees both `cli` and everything else. `load` holds what the
//! subcommands share: reading the task definition and turning flags into core settings.

pub(crate) mod check;
pub(crate) mod docs;
pub(crate) mod export;
mod load;
pub(crate) mod policy;
pub(crate) mod run;
#[cfg(unix)]
mod watch;
