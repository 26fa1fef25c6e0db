//! The command line, as clap definitions only: no I/O and no core types here. `cmd/*`
//! turns these raw values into core settings.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::export::Format;

use clap::{
    ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
    ValueHint,
};

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
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,

    /// Log references, regions and timings to stderr (-vv for more); never values
    #[arg(short, long, action = ArgAction::Count, global = true, help_heading = "Logging")]
    pub verbose: u8,
}

impl Cli {
    /// Parse the command line, and record the order of `--var` and `--var-file`, which
    /// Terraform applies in command-line order (the later one wins).
    pub(crate) fn parse_args(args: &[OsString]) -> Result<Cli, clap::Error> {
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        let (found, source) = match (&mut cli.command, matches.subcommand()) {
            (None, _) => (&matches, &mut cli.run.source),
            (Some(Command::Run(a)), Some((_, m))) => (m, &mut a.source),
            (Some(Command::Export(a)), Some((_, m))) => (m, &mut a.source),
            (Some(Command::Check(a)), Some((_, m))) => (m, &mut a.source),
            (Some(Command::Policy(a)), Some((_, m))) => (m, &mut a.source),
            _ => return Ok(cli),
        };
        source.tf_order = terraform_order(found);
        Ok(cli)
    }
}

/// `--var` and `--var-file` in the order they were given.
fn terraform_order(matches: &ArgMatches) -> Vec<TfInput> {
    let mut given: Vec<(usize, TfInput)> = Vec::new();
    if let Some(at) = matches.indices_of("tf_vars") {
        given.extend(at.enumerate().map(|(n, i)| (i, TfInput::Var(n))));
    }
    if let Some(at) = matches.indices_of("tf_var_files") {
        given.extend(at.enumerate().map(|(n, i)| (i, TfInput::File(n))));
    }
    given.sort_by_key(|&(i, _)| i);
    given.into_iter().map(|(_, input)| input).collect()
}

/// One Terraform variable input from the command line: the `n`th `--var` or `--var-file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TfInput {
    Var(usize),
    File(usize),
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a command with the task definition's environment (the default)
    #[command(after_long_help = EXIT_CODES)]
    Run(RunArgs),

    /// Print the variables the task definition would inject, in a chosen format
    #[command(after_long_help = EXPORT_EXIT)]
    Export(ExportArgs),

    /// Verify every reference without printing any value
    #[command(after_long_help = CHECK_EXIT)]
    Check(CheckArgs),

    /// Print the least-privilege IAM policy the task execution role needs
    Policy(PolicyArgs),

    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff)
    #[command(hide = true)]
    Man,
}

const EXPORT_EXIT: &str = "\
Exit status:
  0    the variables were printed
  125  ecs-env failed: bad arguments, a reference that could not be resolved, or a value the
       format cannot carry (nothing is printed)";

const CHECK_EXIT: &str = "\
Exit status:
  0    every reference would resolve
  1    at least one would not (or, with --offline, is invalid)
  125  the check itself could not run (bad arguments, no credentials, unreadable input)";

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub role: RoleArgs,

    #[command(flatten)]
    pub task_role: TaskRoleArgs,

    #[command(flatten)]
    pub local: LocalArgs,

    #[command(flatten)]
    pub watch: WatchArgs,

    /// The command to run, and its arguments, after `--`. Requiring `--` means a mistyped
    /// option is an error, never a program name
    #[arg(
        value_name = "COMMAND",
        last = true,
        value_hint = ValueHint::CommandWithArguments
    )]
    pub command: Vec<OsString>,
}

/// Watch mode: supervise instead of exec, and restart on rotation.
#[derive(Debug, Args)]
#[command(next_help_heading = "Watch")]
pub(crate) struct WatchArgs {
    /// Supervise the command instead of exec'ing it, and act when a referenced value changes
    /// (polled every INTERVAL, default 60s, with jitter)
    #[arg(
        long,
        value_name = "INTERVAL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "60s",
        value_parser = parse_duration
    )]
    pub watch: Option<Duration>,

    /// The polling interval; implies --watch
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub watch_interval: Option<Duration>,

    /// What to do on a change: `restart` the command, send it `signal:NAME` (for apps that
    /// reload on e.g. SIGHUP; its environment cannot change), or `exit` (status 75) for an
    /// outer supervisor to restart ecs-env
    #[arg(long, value_name = "ACTION", default_value = "restart", value_parser = parse_on_change)]
    pub on_change: OnChangeArg,

    /// The signal that asks the command to stop before a restart
    #[arg(long, value_name = "SIGNAL", default_value = "TERM", value_parser = parse_signal)]
    pub restart_signal: SignalName,

    /// How long the command has to stop after the restart signal before SIGKILL
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub grace: Duration,
}

/// `--on-change`, validated when the flags are parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OnChangeArg {
    Restart,
    Signal(SignalName),
    Exit,
}

/// A signal's name in its `SIGHUP` form, known to be one of [`SIGNALS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignalName(pub String);

/// The signals `--restart-signal` and `--on-change signal:NAME` accept (POSIX's, by name).
const SIGNALS: [&str; 25] = [
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
    "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGCHLD", "SIGCONT",
    "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGWINCH", "SIGSYS",
];

/// `TERM`, `term`, `SIGTERM` → `SIGTERM`.
fn parse_signal(name: &str) -> Result<SignalName, String> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if SIGNALS.contains(&full.as_str()) {
        Ok(SignalName(full))
    } else {
        Err(format!(
            "`{name}` is not a signal name (e.g. TERM, HUP, INT, USR1)"
        ))
    }
}

/// `restart`, `exit` or `signal:NAME`.
fn parse_on_change(value: &str) -> Result<OnChangeArg, String> {
    match value {
        "restart" => Ok(OnChangeArg::Restart),
        "exit" => Ok(OnChangeArg::Exit),
        v => match v.strip_prefix("signal:") {
            Some(name) => parse_signal(name).map(OnChangeArg::Signal),
            None => Err(format!("`{v}` is not restart, signal:NAME or exit")),
        },
    }
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub role: RoleArgs,

    #[command(flatten)]
    pub local: LocalArgs,

    /// Output format. dotenv is the dialect dotenvy and Docker Compose `env_file` read back
    /// exactly (python-dotenv and npm dotenv read it differently)
    #[arg(help_heading = "Options", long, value_enum, default_value_t = Format::Dotenv)]
    pub format: Format,

    /// Print secret values instead of masking them
    #[arg(help_heading = "Options", long)]
    pub reveal: bool,

    /// Write to FILE (mode 0600, atomically) instead of stdout; with `--format github` the
    /// entries are appended, as $GITHUB_ENV expects, and the `::add-mask::` lines go to stdout
    #[arg(help_heading = "Options", short, long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub output: Option<PathBuf>,
}

/// `--format` takes the export module's own formats; only their names and help live here.
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Format::Dotenv => "NAME=\"...\" (dotenvy, Docker Compose env_file)",
            Format::Shell => "export NAME='...' (POSIX sh, bash, dash: safe to eval)",
            Format::Fish => "set -gx NAME '...'",
            Format::Powershell => "$env:NAME = '...'",
            Format::Docker => "NAME=value, verbatim (docker run --env-file, Compose `format: raw`)",
            Format::Json => "one flat JSON object",
            Format::Github => "heredoc entries for $GITHUB_ENV, with ::add-mask:: lines",
            Format::Names => "names only, one per line (docker run -e NAME pass-through)",
            Format::Nextest => "NAME=value lines for a cargo-nextest setup script's $NEXTEST_ENV",
        };
        Some(clap::builder::PossibleValue::new(self.name()).help(help))
    }
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub role: RoleArgs,

    /// Syntax and registration checks only, no AWS call (a lint for CI)
    #[arg(help_heading = "Options", long)]
    pub offline: bool,

    #[arg(long, value_enum, default_value_t = ReportFormat::Table, help_heading = "Options")]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Cover every container of the task definition, not just one
    #[arg(help_heading = "Options", long, conflicts_with = "container")]
    pub all_containers: bool,

    /// Grant kms:Decrypt on this customer-managed key (repeatable); without --offline, keys
    /// are also discovered with DescribeSecret / DescribeParameters
    #[arg(help_heading = "Options", long = "kms-key", value_name = "ARN")]
    pub kms_keys: Vec<String>,

    /// Make no AWS call: needs --account when a parameter is given by bare name
    #[arg(help_heading = "Options", long)]
    pub offline: bool,

    /// Also allow secretsmanager:BatchGetSecretValue (on `*`; each secret still needs
    /// GetSecretValue), so that runs read twenty secrets per request
    #[arg(help_heading = "Options", long)]
    pub batch: bool,

    #[arg(long, value_enum, default_value_t = PolicyFormat::Json, help_heading = "Options")]
    pub format: PolicyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PolicyFormat {
    /// an IAM policy document
    Json,
    /// a Terraform `aws_iam_policy_document` data block
    Terraform,
}

/// Where the variables come from.
#[derive(Debug, Args)]
#[command(next_help_heading = "Task definition")]
pub(crate) struct SourceArgs {
    /// Where the task definition is: a JSON file (describe-task-definition output,
    /// register-task-definition input, a container definitions array), a CloudFormation/CDK
    /// template (JSON or YAML), a Terraform directory or .tf file, `terraform show -json`
    /// output, `-` for stdin, or a deployed task definition (FAMILY, FAMILY:REVISION or its
    /// ARN, read with ecs:DescribeTaskDefinition). An existing file always wins over a
    /// family of the same name
    #[arg(
        short = 'f',
        long = "task-definition",
        value_name = "SOURCE",
        env = "ECS_ENV_TASK_DEFINITION",
        value_hint = ValueHint::AnyPath
    )]
    pub task_definition: Option<PathBuf>,

    /// Use the task definition a service currently deploys (ecs:DescribeServices)
    #[arg(
        long,
        value_name = "CLUSTER/SERVICE",
        conflicts_with = "task_definition"
    )]
    pub service: Option<String>,

    /// The resource to read when there are several: a CloudFormation logical id, or a
    /// Terraform address (aws_ecs_task_definition.NAME, with [INDEX] or ["KEY"])
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,

    /// CloudFormation: a template parameter's value, or an Fn::ImportValue export (repeatable)
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,

    /// CloudFormation: the deployed stack, whose physical ids resolve `Ref`s of resources
    /// (cloudformation:DescribeStackResources)
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,

    /// Terraform: a variable's value (repeatable; TF_VAR_* and tfvars files are read too;
    /// --var and --var-file apply in command-line order, the later one winning)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub tf_vars: Vec<String>,

    /// Terraform: a variables file (repeatable)
    #[arg(long = "var-file", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub tf_var_files: Vec<PathBuf>,

    /// `--var` and `--var-file` in command-line order (filled in by [`Cli::parse_args`]).
    #[arg(skip)]
    pub tf_order: Vec<TfInput>,

    /// Terraform: the state (a terraform.tfstate file, or `terraform state pull` output) for
    /// attributes of other resources; default: terraform.tfstate in the directory
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub tfstate: Option<PathBuf>,

    /// Terraform: a setting of the state's backend, as given to terraform init (KEY=VALUE, or
    /// a file of them; repeatable); default: the backend block and what init recorded
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,

    /// The AWS account id: CloudFormation's AWS::AccountId, Terraform's
    /// data.aws_caller_identity, and the ARN of a parameter given by bare name in policy and
    /// check (default: from sts:GetCallerIdentity, asked only when needed)
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// Container to use; required when the task definition has several
    #[arg(short, long, value_name = "NAME", env = "ECS_ENV_CONTAINER")]
    pub container: Option<String>,

    /// Add a secret reference, as a `secrets` entry of the container (repeatable)
    #[arg(long = "secret", value_name = "NAME=VALUEFROM")]
    pub secrets: Vec<String>,

    /// Add a plain variable, as an `environment` entry of the container (repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,

    /// How environment files are parsed: the EC2 agent's rules, or Docker env-file rules as
    /// documented for Fargate. Lines the two read differently get a warning either way
    #[arg(long, value_enum, default_value_t = LaunchType::Ec2)]
    pub launch_type: LaunchType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LaunchType {
    Ec2,
    Fargate,
}

/// The AWS CLI's own flags; the SDK's environment variables keep working underneath.
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS")]
pub(crate) struct AwsArgs {
    /// Named profile from the AWS config (default: AWS_PROFILE, else `default`)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Task region: for parameters given by name, and for AWS_REGION/AWS_DEFAULT_REGION
    /// injection (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)
    #[arg(long, value_name = "REGION", value_parser = parse_region)]
    pub region: Option<String>,

    /// Send every AWS request to this endpoint (default: AWS_ENDPOINT_URL and the
    /// per-service AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, value_parser = parse_endpoint)]
    pub endpoint_url: Option<String>,

    /// Give up on AWS after this long: credentials, lookups and every fetch, retries
    /// included (e.g. 30s, 1500ms, 2m)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, env = "ECS_ENV_TIMEOUT")]
    pub timeout: Duration,

    /// Fetch every secret with its own GetSecretValue, as the ECS agent does, instead of
    /// BatchGetSecretValue for 20 current versions at a time
    #[arg(long, env = "ECS_ENV_NO_BATCH", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_batch: bool,
}

/// Which identity fetches the values: ECS fetches them as the task's execution role.
#[derive(Debug, Args)]
#[command(next_help_heading = "Identity")]
pub(crate) struct RoleArgs {
    /// Fetch every value as the task's execution role (`executionRoleArn`), as ECS does, so
    /// that a missing grant fails here and not after deploy. The role is assumed with STS
    /// AssumeRole; its trust policy must allow you
    #[arg(long)]
    pub as_execution_role: bool,

    /// Act as this execution role instead of the task definition's (implies
    /// --as-execution-role)
    #[arg(long, value_name = "ARN", value_parser = parse_role_arn)]
    pub execution_role: Option<String>,
}

/// Which identity the command runs as: ECS gives it the task role.
#[derive(Debug, Args)]
#[command(next_help_heading = "Identity")]
pub(crate) struct TaskRoleArgs {
    /// Give the command the task role's credentials (`taskRoleArn`) instead of yours, as ECS
    /// does: from a credentials endpoint on 127.0.0.1, with your own AWS variables and
    /// profiles removed from its environment. ecs-env then supervises the command
    #[arg(long)]
    pub task_role: bool,

    /// Give the command this role instead of the task definition's (implies --task-role)
    #[arg(long, value_name = "ARN", value_parser = parse_role_arn)]
    pub task_role_arn: Option<String>,
}

/// `--execution-role`, `--task-role-arn`: an IAM role ARN.
fn parse_role_arn(arn: &str) -> Result<String, String> {
    match crate::identity::role_arn_problem(arn) {
        None => Ok(arn.to_owned()),
        Some(problem) => Err(problem.to_owned()),
    }
}

/// `--region`: a region name.
fn parse_region(region: &str) -> Result<String, String> {
    if crate::reference::is_region(region) {
        Ok(region.to_owned())
    } else {
        Err("not a region name (lower-case letters, digits and `-`, like us-east-1)".to_owned())
    }
}

/// `--endpoint-url`: an `http://` or `https://` URL with a host.
fn parse_endpoint(url: &str) -> Result<String, String> {
    match crate::aws::endpoint_problem(url) {
        None => Ok(url.to_owned()),
        Some(problem) => Err(format!("the endpoint is {problem}")),
    }
}

/// The longest duration any flag takes. Beyond a day a timeout or interval is a mistake, and
/// a larger one would overflow the clock arithmetic downstream.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// `30` (seconds), `30s`, `1500ms`, `2m`, `1h 30m` → a duration between 1 ms and a day.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{s}s")
    } else {
        s.to_owned()
    };
    let d = humantime::parse_duration(&text)
        .map_err(|e| format!("`{s}` is not a duration like 30s, 1500ms or 2m ({e})"))?;
    if d.is_zero() {
        return Err(format!("`{s}`: the duration must be positive"));
    }
    if d > MAX_DURATION {
        return Err(format!("`{s}`: the duration must be at most 24h"));
    }
    Ok(d)
}

/// How the task's variables meet the inherited environment.
#[derive(Debug, Args)]
#[command(next_help_heading = "Local environment")]
pub(crate) struct LocalArgs {
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

    /// Replace task variables' values from a dotenv file (repeatable; later files win, and
    /// --override wins over files); overridden secrets are not fetched
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
    fn terraform_inputs_keep_their_command_line_order() {
        let parse = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            Cli::parse_args(&args).unwrap()
        };
        let order = [
            TfInput::Var(0),
            TfInput::File(0),
            TfInput::Var(1),
            TfInput::File(1),
        ];
        let tf = [
            "--var",
            "a=1",
            "--var-file",
            "x.tfvars",
            "--var=b=2",
            "--var-file=y.tfvars",
        ];
        let run = parse(&[&["ecs-env", "-f", "dir"], &tf[..], &["--", "true"]].concat());
        assert_eq!(run.run.source.tf_order, order);
        assert_eq!(run.run.source.tf_vars, ["a=1", "b=2"]);
        let export = parse(&[&["ecs-env", "export", "-f", "dir"], &tf[..]].concat());
        let Some(Command::Export(args)) = export.command else {
            panic!("export");
        };
        assert_eq!(args.source.tf_order, order);
        let check = parse(&[
            "ecs-env",
            "check",
            "-f",
            "dir",
            "--var-file",
            "x",
            "--var",
            "a=1",
        ]);
        let Some(Command::Check(args)) = check.command else {
            panic!("check");
        };
        assert_eq!(args.source.tf_order, [TfInput::File(0), TfInput::Var(0)]);
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
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        for bad in ["0s", "25h", "x", "", "-1s", "18446744073709551615s", "1e9s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
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
