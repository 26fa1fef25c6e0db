//! The command line, as clap definitions only: no I/O and no core types here. `cmd/*`
//! turns these raw values into core settings.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueHint};

const EXIT_CODES: &str = "\
Exit status (as env(1)):
  125  ecs-env itself failed: bad arguments, unreadable task definition, a reference that
       could not be resolved (nothing is started)
  126  the command was found but could not be executed
  127  the command was not found
  *    otherwise the command's own status: ecs-env replaces itself with the command";

#[derive(Debug, Parser)]
#[command(
    name = "ecs-env",
    version,
    about = "Run a command with exactly the environment Amazon ECS would inject",
    long_about = "Run a command with exactly the environment Amazon ECS would inject.\n\n\
        ecs-env reads a task definition, resolves the container's `environment` and `secrets` \
        (Secrets Manager and SSM Parameter Store) the way the ECS agent does, and then execs \
        the command with that environment. If any reference cannot be resolved, the command is \
        not started and every failure is listed.",
    after_long_help = EXIT_CODES,
    args_conflicts_with_subcommands = true,
    subcommand_value_name = "SUBCOMMAND",
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command with the task definition's environment (the default)
    #[command(after_long_help = EXIT_CODES)]
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub local: LocalArgs,

    /// Log references, regions and timings to stderr (-vv for more); never values
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// The command to run, and its arguments, after `--`. Requiring `--` means a mistyped
    /// option is an error, never a program name
    #[arg(
        value_name = "COMMAND",
        last = true,
        value_hint = ValueHint::CommandWithArguments
    )]
    pub command: Vec<OsString>,
}

/// Where the variables come from.
#[derive(Debug, Args)]
#[command(next_help_heading = "Task definition")]
pub struct SourceArgs {
    /// Task definition JSON: describe-task-definition output, register-task-definition
    /// input, or a bare container definitions array (Terraform). `-` reads stdin
    #[arg(
        short = 'f',
        long = "task-definition",
        value_name = "PATH",
        env = "ECS_ENV_TASK_DEFINITION",
        value_hint = ValueHint::FilePath
    )]
    pub task_definition: Option<PathBuf>,

    /// Container to use; required when the task definition has several
    #[arg(short, long, value_name = "NAME", env = "ECS_ENV_CONTAINER")]
    pub container: Option<String>,

    /// Add a secret reference, as a `secrets` entry of the container (repeatable)
    #[arg(long = "secret", value_name = "NAME=VALUEFROM")]
    pub secrets: Vec<String>,

    /// Add a plain variable, as an `environment` entry of the container (repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
}

/// The AWS CLI's own flags; the SDK's environment variables keep working underneath.
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS")]
pub struct AwsArgs {
    /// Named profile from the AWS config (default: AWS_PROFILE, else `default`)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Task region: for parameters given by name, and for AWS_REGION/AWS_DEFAULT_REGION
    /// injection (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS request to this endpoint (default: AWS_ENDPOINT_URL and the
    /// per-service AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub endpoint_url: Option<String>,
}

/// How the task's variables meet the inherited environment.
#[derive(Debug, Args)]
#[command(next_help_heading = "Local environment")]
pub struct LocalArgs {
    /// Let inherited variables win over the task definition's: all of them, or the named
    /// ones (`--preserve-env=A,B`). Preserved secrets are not fetched
    #[arg(
        long,
        value_name = "NAMES",
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ','
    )]
    pub preserve_env: Option<Vec<String>>,

    /// Start the command from an empty environment plus PATH, HOME, USER, LOGNAME, SHELL,
    /// TERM, LANG, LC_*, TZ and TMPDIR (extend with --keep)
    #[arg(long)]
    pub pristine: bool,

    /// With --pristine, also keep this inherited variable (repeatable)
    #[arg(long, value_name = "NAME", requires = "pristine")]
    pub keep: Vec<String>,

    /// Replace a task variable's value locally; an overridden secret is not fetched
    /// (repeatable)
    #[arg(long = "override", value_name = "NAME=VALUE")]
    pub overrides: Vec<String>,

    /// Replace task variables' values from a dotenv file; overridden secrets are not fetched
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub override_file: Vec<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn command_after_double_dash_keeps_its_flags() {
        let cli =
            Cli::try_parse_from(["ecs-env", "-f", "td.json", "--", "ls", "-la", "--env", "x"])
                .unwrap();
        assert_eq!(cli.run.command, ["ls", "-la", "--env", "x"]);
        let cli = Cli::try_parse_from(["ecs-env", "run", "-f", "td.json", "--", "ls"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Run(r)) if r.command == ["ls"]));
        // Without `--`, a stray word or a mistyped flag is an error, not a command.
        assert!(Cli::try_parse_from(["ecs-env", "-f", "td.json", "ls"]).is_err());
        assert!(Cli::try_parse_from(["ecs-env", "--typo", "--", "ls"]).is_err());
    }

    #[test]
    fn preserve_env_forms() {
        let all = Cli::try_parse_from(["ecs-env", "--preserve-env", "--", "true"]).unwrap();
        assert_eq!(all.run.local.preserve_env, Some(vec![]));
        let some = Cli::try_parse_from(["ecs-env", "--preserve-env=A,B", "--", "true"]).unwrap();
        assert_eq!(
            some.run.local.preserve_env,
            Some(vec!["A".into(), "B".into()])
        );
    }
}
