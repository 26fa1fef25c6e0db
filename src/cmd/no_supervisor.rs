//! `--watch` and `--task-role` where ecs-env cannot supervise a command (Windows): one clear
//! error, exit 125, naming the flag, before anything is read or fetched.
//!
//! Both run the command as a supervised child (`process::supervise`), which forwards, waits
//! for and re-raises Unix signals; Windows has none of them. Everything else about `run`
//! (resolution, `--as-execution-role`, the exit code) works there.

use crate::cli::RunArgs;
use crate::error::Error;

/// Always the error: there is nothing to supervise with.
pub(crate) fn execute(args: &RunArgs) -> Result<u8, Error> {
    Err(unsupported(args))
}

/// The error for the first supervising flag given.
fn unsupported(args: &RunArgs) -> Error {
    let (flag, without) = if args.watch.watch.is_some() {
        (
            "--watch",
            "the command runs once, with the environment resolved at start",
        )
    } else if args.watch.watch_interval.is_some() {
        (
            "--watch-interval",
            "the command runs once, with the environment resolved at start",
        )
    } else if args.task_role.task_role_arn.is_some() {
        ("--task-role-arn", "the command gets your own credentials")
    } else {
        ("--task-role", "the command gets your own credentials")
    };
    Error::Usage {
        message: format!(
            "`{flag}` needs a Unix system (Linux or macOS): ecs-env supervises the command \
             there, with Unix signals, which Windows does not have; nothing was started"
        ),
        hint: Some(format!(
            "run without `{flag}` ({without}), or run ecs-env in WSL or a Linux container"
        )),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn message(args: &[&str]) -> (String, String) {
        let cli = Cli::try_parse_from(args).expect("valid arguments");
        let run = match cli.command {
            Some(Command::Run(run)) => run,
            _ => cli.run,
        };
        let error = execute(&run).expect_err("always an error");
        assert_eq!(crate::exit::of_error(&error), crate::exit::OWN_FAILURE);
        (error.to_string(), error.hint().expect("a hint"))
    }

    #[test]
    fn names_the_flag_and_the_platform() {
        let base = ["ecs-env", "-f", "t.json"];
        for (flag, extra) in [
            ("--watch", &["--watch"][..]),
            ("--watch-interval", &["--watch-interval", "5s"][..]),
            ("--task-role", &["--task-role"][..]),
            (
                "--task-role-arn",
                &["--task-role-arn", "arn:aws:iam::123456789012:role/app"][..],
            ),
        ] {
            let args: Vec<&str> = base
                .iter()
                .chain(extra)
                .chain(&["--", "app"])
                .copied()
                .collect();
            let (text, hint) = message(&args);
            assert!(
                text.starts_with(&format!("`{flag}` needs a Unix system")),
                "{text}"
            );
            assert!(text.contains("nothing was started"), "{text}");
            assert!(hint.starts_with(&format!("run without `{flag}`")), "{hint}");
        }
    }
}
