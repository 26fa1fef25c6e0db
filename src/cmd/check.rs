//! `ecs-env check`: verify every reference, print no value.

use std::io::{IsTerminal, Write};

use super::args;
use crate::check::Report;
use crate::cli::{CheckArgs, ReportFormat};
use crate::error::Error;
use crate::pipeline::{self, Pipeline, Warnings};
use crate::resolve::{self, Local};

/// A plan whose secrets are the role reads, named `ROLE_READ_<i>`, so that they are
/// validated, fetched and evaluated exactly as `secrets` are.
fn role_reads_plan(
    container: &str,
    reads: &[crate::identity::RoleRead],
    local: &resolve::Local,
) -> resolve::Plan {
    let container = crate::taskdef::ContainerDefinition {
        name: container.to_owned(),
        secrets: reads
            .iter()
            .enumerate()
            .map(|(i, r)| crate::taskdef::SecretEntry {
                name: format!("{}{i}", crate::check::ROLE_READ),
                value_from: r.value_from.clone(),
            })
            .collect(),
        ..Default::default()
    };
    resolve::plan(&container, local)
}

/// 0 when everything would resolve, 1 when something would not; errors are 125.
pub(crate) fn execute(args: &CheckArgs) -> Result<u8, Error> {
    let source = args::source(&args.source)?;
    let mut settings = args::aws_settings(&args.aws);
    // Offline means no socket, also for the lookups a source may want.
    settings.offline = args.offline;
    settings.execution_role = args::role_choice(
        args.role.execution_role.as_ref(),
        args.role.as_execution_role,
    );
    if args.offline && settings.execution_role.is_some() {
        return Err(Error::usage(
            "--as-execution-role needs AWS (STS AssumeRole): drop --offline, or drop \
             --as-execution-role for the offline checks",
        ));
    }

    let report = crate::runtime::block_on(pipeline::deadline(&settings), async {
        // No overrides and nothing inherited: check looks at every reference as ECS would.
        // Warnings are in the report, so they are not printed as well.
        let mut pipeline = Pipeline::new(
            &source,
            &settings,
            Local::default(),
            Warnings::Collect(Vec::new()),
        )
        .await;
        let loaded = pipeline.load().await?;
        let plan = pipeline.plan(&loaded);
        let region = pipeline.local.task_region.clone();
        // Online, who is asking: for the report, and for the account of a registry secret
        // given by name.
        let identity = match args.offline {
            true => None,
            false => Some(pipeline.aws.get().await?.identity().await),
        };
        let account = args.source.account.clone().or_else(|| {
            identity
                .as_ref()
                .and_then(|i| i.as_ref().ok())
                .map(|i| i.account.clone())
        });
        // What the execution role reads for the log driver and the registry, checked as the
        // values are (and discarded: only the outcome is reported).
        let (reads, failures) =
            crate::identity::role_reads(&loaded.container, region.as_deref(), account.as_deref());
        let reads_plan = role_reads_plan(&loaded.container.name, &reads, &pipeline.local);
        let Some(identity) = identity else {
            let mut report =
                Report::new(loaded.task.as_ref(), &loaded.container, &plan, None, region);
            report.add_role_reads(&reads, failures, &reads_plan, None);
            report.source_reads = pipeline.source_reads.clone();
            return Ok::<_, Error>(report);
        };
        let role = pipeline.act_as_execution_role().await?;
        // One fetch for both: the variables' references and the role reads.
        let mut both = plan.clone();
        both.secrets.extend(reads_plan.secrets.iter().cloned());
        let fetched = pipeline.fetch(&both).await?;
        let evaluation = resolve::evaluate(&plan, &pipeline.local, &fetched);
        let reads_evaluation = resolve::evaluate(&reads_plan, &pipeline.local, &fetched);
        let mut report = Report::new(
            loaded.task.as_ref(),
            &loaded.container,
            &plan,
            Some(evaluation),
            region,
        );
        report.add_role_reads(&reads, failures, &reads_plan, Some(reads_evaluation));
        report.identity = Some(identity.map(|i| i.arn));
        report.execution_role = role;
        report.source_reads = pipeline.source_reads.clone();
        Ok(report)
    })??;

    let text = match args.format {
        ReportFormat::Json => report.to_json(),
        ReportFormat::Table => {
            let stdout = std::io::stdout();
            let colour =
                stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report.to_table(colour)
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Output)?;
    Ok(if report.passed() {
        crate::exit::SUCCESS
    } else {
        crate::exit::CHECK_FAILED
    })
}
