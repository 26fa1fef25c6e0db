//! The `ecs-env` command line: parse the arguments, dispatch the subcommand, print any
//! error once, and choose the exit code. Built with the `cli` feature only.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;

use crate::cli::{self, Cli, Command};
use crate::error::Error;
use crate::{cmd, exit, process};

/// Parse the arguments, do the work, report any error, and choose the exit code. The only
/// place errors are printed.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    exit_125_on_panic();
    // Before anything can read a value: no core dump may hold one.
    process::start_up();
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::parse_args(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if e.kind() == ErrorKind::UnknownArgument
                && let Some(hint) = usage_hint(&args)
            {
                eprintln!("{hint}");
            }
            // --help and --version are successes; any other usage error is ours: 125, as
            // env(1), not clap's 2.
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::from(exit::SUCCESS),
                _ => ExitCode::from(exit::OWN_FAILURE),
            };
        }
    };
    init_logging(cli.verbose);
    let result = match cli.command {
        None => run_or_watch(cli.run),
        Some(Command::Run(args)) => run_or_watch(args),
        Some(Command::Export(args)) => cmd::export::execute(&args),
        Some(Command::Check(args)) => cmd::check::execute(&args),
        Some(Command::Policy(args)) => cmd::policy::execute(&args),
        Some(Command::Completions { shell }) => cmd::docs::completions(shell),
        Some(Command::Man) => cmd::docs::man(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`ecs-env export | head -1`) is the reader's choice, not a failure.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(exit::SUCCESS)
        }
        Err(e) => {
            e.report();
            ExitCode::from(exit::of_error(&e))
        }
    }
}

/// `run` (exec), or supervised (`--watch`, `--task-role`; an error on Windows): the two never
/// call each other.
fn run_or_watch(args: cli::RunArgs) -> Result<u8, Error> {
    let task_role = args.task_role.task_role || args.task_role.task_role_arn.is_some();
    if args.watch.watch.is_none() && args.watch.watch_interval.is_none() && !task_role {
        return cmd::run::execute(args);
    }
    cmd::watch::execute(&args)
}

/// The likely mistake behind an unexpected argument, if there is a likely one.
fn usage_hint(args: &[OsString]) -> Option<&'static str> {
    const SUBCOMMANDS: [&str; 5] = ["run", "export", "check", "policy", "completions"];
    // A subcommand that runs no command: clap's message is the whole story.
    if args
        .get(1)
        .is_some_and(|a| SUBCOMMANDS[1..].iter().any(|s| a == s))
    {
        return None;
    }
    let mut before_dash = args.iter().skip(1).take_while(|a| *a != "--");
    // A subcommand name after some option: the options were put first.
    Some(
        if before_dash.by_ref().next().is_some()
            && before_dash.any(|a| SUBCOMMANDS.iter().any(|s| a == s))
        {
            "hint: a subcommand comes first, its options after it: ecs-env SUBCOMMAND [OPTIONS]"
        } else {
            "hint: the command goes after `--`: ecs-env [OPTIONS] -- COMMAND [ARGS...]"
        },
    )
}

/// `-v`: ecs-env's own debug events (references, regions, timings). `-vv`: also the AWS
/// SDK's request lifecycle at debug level. Neither prints values: ecs-env never logs one,
/// and the SDK redacts secret fields in its `Debug` output.
fn init_logging(verbose: u8) {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;

    if verbose == 0 {
        return;
    }
    let mut targets = Targets::new().with_target("ecs_env", Level::DEBUG);
    if verbose >= 2 {
        targets = targets
            .with_target("ecs_env", Level::TRACE)
            .with_target("aws_config", Level::DEBUG)
            .with_target("aws_smithy_runtime", Level::DEBUG);
    }
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(true);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(targets)
        .try_init();
}

/// A panic is a bug in ecs-env, and ecs-env's own failures exit 125 (as env(1)'s do), before
/// any command was started. The release build aborts on panic (smaller binary, no unwinding
/// tables); without this hook that would be SIGABRT, exit 134. The standard message (location
/// and payload; no payload of ours carries a value) is printed first.
fn exit_125_on_panic() {
    let standard = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        standard(info);
        eprintln!("ecs-env: internal error: this is a bug in ecs-env, please report it");
        std::process::exit(i32::from(exit::OWN_FAILURE));
    }));
}
