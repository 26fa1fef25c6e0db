//! One module per subcommand: the glue between the command line, the core and the edges.
//! This is the only layer that sees both `cli` and everything else.

pub(crate) mod run;
