//! `ecs-env check`: verify every reference, print no value.

use std::io::{IsTerminal, Write};

use super::load;
use crate::aws::{self, LazySession};
use crate::check::Report;
use crate::cli::{CheckArgs, ReportFormat};
use crate::error::Error;
use crate::resolve::{self, Local};

/// 0 when everything would resolve, 1 when something would not; errors are 125.
pub(crate) fn execute(args: &CheckArgs) -> Result<u8, Error> {
    let settings = load::aws_settings(&args.aws);

    let report = crate::runtime::block_on(load::deadline(&settings), async {
        let mut aws = LazySession::new(&settings);
        // No overrides and nothing inherited: check looks at every reference as ECS would.
        let local = Local {
            task_region: aws::task_region(&settings).await,
            dialect: load::dialect(&args.source),
            ..Local::default()
        };
        let task =
            load::task_definition(&args.source, &mut aws, local.task_region.as_deref()).await?;
        let container = load::container(&args.source, task.as_ref())?;
        let plan = resolve::plan(&container, &local);
        if args.offline {
            return Ok::<_, Error>(Report::new(
                task.as_ref(),
                &container,
                &plan,
                None,
                local.task_region.clone(),
            ));
        }
        let session = aws.get().await?;
        let identity = session.identity().await.map(|i| i.arn);
        let fetched = session
            .fetch_all(&plan.fetches(), local.task_region.as_deref())
            .await;
        let evaluation = resolve::evaluate(&plan, &local, &fetched);
        let mut report = Report::new(
            task.as_ref(),
            &container,
            &plan,
            Some(evaluation),
            local.task_region.clone(),
        );
        report.identity = Some(identity);
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
    Ok(if report.passed() { 0 } else { 1 })
}
