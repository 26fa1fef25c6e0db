//! `ecs-env check`'s report: one row per variable, warnings where ECS surprises, and the
//! table and JSON renderings.
//!
//! Built from the same plan and evaluation as `run`, so a reference that `check` calls ok is
//! one `run` resolves. The report holds no values: rows carry names, references, where each
//! was read, and outcomes; JSON-key rendering quirks are described, not shown.
//!
//! Pure: the caller fetches, then hands the results here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::identity::RoleRead;
use crate::reference::SecretRef;
use crate::resolve::{Evaluation, Failure, Origin, Plan, SecretSource, Status};
use crate::taskdef::{ContainerDefinition, Shape, TaskDefinition};

/// Width the table is laid out for.
const WIDTH: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub variable: String,
    /// `environment` or `secret`.
    pub source: &'static str,
    pub reference: Option<String>,
    /// `secretsmanager` or `ssm`.
    pub service: Option<&'static str>,
    pub region: Option<String>,
    pub api: Option<&'static str>,
    /// `ok`, `valid` (offline), `overridden`, or the failure's label.
    pub outcome: &'static str,
    pub failure: Option<Failure>,
    pub warnings: Vec<String>,
}

impl Row {
    /// A row for an `environment` entry, `ok` until evaluation says otherwise.
    fn environment(name: &str) -> Row {
        Row {
            variable: name.to_owned(),
            source: "environment",
            reference: None,
            service: None,
            region: None,
            api: None,
            outcome: "ok",
            failure: None,
            warnings: Vec::new(),
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.failure.is_none()
    }

    /// Record what evaluation found; `None` offline.
    fn apply(&mut self, status: Option<Status>) {
        match status {
            None => {}
            Some(Status::Value(_, quirks)) => {
                self.warnings = quirks.iter().map(|q| q.describe().to_owned()).collect();
            }
            Some(Status::Overridden(_)) => self.outcome = "overridden",
            Some(Status::Preserved) => self.outcome = "preserved",
            Some(Status::Failed(f)) => {
                self.outcome = f.label();
                self.failure = Some(f);
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// The caller's identity (`sts:GetCallerIdentity`), or why it is unknown.
    pub identity: Option<Result<String, String>>,
    /// The execution role values were fetched as (`--as-execution-role`), if any.
    pub execution_role: Option<String>,
    pub task_region: Option<String>,
    pub offline: bool,
    pub rows: Vec<Row>,
    /// Problems not tied to one variable (e.g. no region).
    pub general: Vec<Failure>,
    /// What the execution role reads besides the environment: log driver secrets and
    /// registry credentials.
    pub role_reads: Vec<Row>,
    pub warnings: Vec<String>,
    /// What the source read from AWS to evaluate itself, as `terraform plan` reads data
    /// sources: `ssm:GetParameter /app/image`.
    pub source_reads: Vec<String>,
}

impl Report {
    /// A report from the plan and, online, the evaluated variables.
    pub(crate) fn new(
        task: Option<&TaskDefinition>,
        container: &ContainerDefinition,
        plan: &Plan,
        evaluation: Option<Evaluation>,
        task_region: Option<String>,
    ) -> Report {
        let mut report = Report {
            offline: evaluation.is_none(),
            task_region: task_region.clone(),
            ..Report::default()
        };
        let (file_vars, evaluated, file_warnings) = match evaluation {
            Some(e) => {
                let (files, rest) = e
                    .vars
                    .into_iter()
                    .partition(|v| v.origin == Origin::EnvironmentFile);
                (files, Some(rest), e.warnings)
            }
            None => (Vec::new(), None, Vec::new()),
        };
        if report.offline {
            for (arn, _) in &plan.environment_files {
                report.rows.push(Row {
                    variable: "(environment file)".to_owned(),
                    source: "environment file",
                    reference: Some(arn.clone()),
                    service: Some("s3"),
                    region: None,
                    api: Some("GetObject"),
                    outcome: "valid",
                    failure: None,
                    warnings: Vec::new(),
                });
            }
        }
        for v in file_vars {
            if v.name.is_empty() {
                if let Status::Failed(f) = v.status {
                    report.general.push(f);
                }
                continue;
            }
            let mut row = Row {
                variable: v.name,
                source: "environment file",
                reference: v.reference,
                service: Some("s3"),
                region: None,
                api: Some("GetObject"),
                outcome: "ok",
                failure: None,
                warnings: Vec::new(),
            };
            row.apply(Some(v.status));
            report.rows.push(row);
        }
        // `evaluate` yields one entry per plan entry, in order: environment, then secrets.
        let mut statuses = evaluated.map(|v| v.into_iter().map(|e| e.status));
        let mut next_status = || statuses.as_mut().and_then(Iterator::next);

        for (name, _) in &plan.environment {
            let mut row = Row::environment(name);
            row.apply(next_status());
            report.rows.push(row);
        }
        for s in &plan.secrets {
            let mut row = secret_row(s, "secret", task_region.as_deref(), report.offline);
            row.apply(next_status());
            report.rows.push(row);
        }
        // Registration-time problems: a row for a variable, or a general problem.
        for p in &plan.problems {
            match &p.variable {
                Some(v) => report.rows.push(Row {
                    variable: v.clone(),
                    source: if p.reference.is_some() {
                        "secret"
                    } else {
                        "environment"
                    },
                    reference: p.reference.clone(),
                    service: None,
                    region: None,
                    api: None,
                    outcome: p.label(),
                    failure: Some(p.clone()),
                    warnings: Vec::new(),
                }),
                None => report.general.push(p.clone()),
            }
        }
        report.warnings = warnings(task, container, plan);
        report.warnings.extend(file_warnings);
        report
    }

    /// Add what the execution role reads besides the environment (log driver secrets,
    /// registry credentials): `failures` are those that cannot even be written; `plan` and
    /// `evaluation` are of a container whose secrets are the `reads`, named `ROLE_READ_<i>`.
    pub(crate) fn add_role_reads(
        &mut self,
        reads: &[RoleRead],
        failures: Vec<Failure>,
        plan: &Plan,
        evaluation: Option<Evaluation>,
    ) {
        let index = |name: &str| {
            name.strip_prefix(ROLE_READ)
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| reads.get(i))
        };
        let source = |read: &RoleRead| {
            if read.registry {
                "registry"
            } else {
                "log secret"
            }
        };
        for mut f in failures {
            // Offline, a registry secret given by name is valid: only its ARN needs the account.
            let valid_offline = self.offline && f.class == crate::diagnostic::Class::NoAccount;
            let label = f.variable.take().unwrap_or_default();
            self.role_reads.push(Row {
                source: if label == crate::identity::REGISTRY {
                    "registry"
                } else {
                    "log secret"
                },
                variable: label,
                reference: f.reference.clone(),
                service: None,
                region: None,
                api: None,
                outcome: if valid_offline { "valid" } else { f.label() },
                failure: (!valid_offline).then_some(f),
                warnings: Vec::new(),
            });
        }
        let mut statuses: BTreeMap<String, Status> = evaluation
            .map(|e| e.vars.into_iter().map(|v| (v.name, v.status)).collect())
            .unwrap_or_default();
        for s in &plan.secrets {
            let Some(read) = index(&s.name) else { continue };
            let mut row = secret_row(s, source(read), self.task_region.as_deref(), self.offline);
            row.variable = read.name.clone();
            let status = statuses.remove(&s.name);
            let shape = match (&status, read.registry) {
                (Some(Status::Value(value, _)), true) => registry_shape(value.expose()),
                _ => None,
            };
            row.apply(status);
            if let Some(f) = shape {
                row.outcome = f.label();
                row.failure = Some(f.reference(&read.value_from));
            }
            self.role_reads.push(row);
        }
        for p in &plan.problems {
            let Some(read) = p.variable.as_deref().and_then(index) else {
                continue;
            };
            let mut f = p.clone();
            f.variable = None;
            self.role_reads.push(Row {
                variable: read.name.clone(),
                source: source(read),
                reference: Some(read.value_from.clone()),
                service: None,
                region: None,
                api: None,
                outcome: f.label(),
                failure: Some(f),
                warnings: Vec::new(),
            });
        }
    }

    /// Every reference would resolve.
    pub(crate) fn passed(&self) -> bool {
        self.general.is_empty()
            && self.rows.iter().all(Row::ok)
            && self.role_reads.iter().all(Row::ok)
    }

    /// The regions references are read from, the task region first.
    fn regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = self.task_region.iter().cloned().collect();
        for r in self.rows.iter().filter_map(|r| r.region.as_ref()) {
            if !regions.contains(r) {
                regions.push(r.clone());
            }
        }
        regions
    }

    /// The table, laid out for an 80-column terminal.
    pub(crate) fn to_table(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        match &self.identity {
            Some(Ok(arn)) => wrap(&mut out, "identity: ", arn),
            Some(Err(e)) => wrap(&mut out, "identity: ", &format!("unknown ({e})")),
            None => wrap(
                &mut out,
                "identity: ",
                "none (offline: no AWS call was made)",
            ),
        }
        if let Some(role) = &self.execution_role {
            wrap(&mut out, "acting as: ", &format!("{role} (execution role)"));
        }
        let regions = self.regions();
        let regions = if regions.is_empty() {
            "none".to_owned()
        } else {
            regions.join(", ")
        };
        wrap(&mut out, "regions:  ", &regions);
        out.push('\n');
        let name_width = self
            .rows
            .iter()
            .chain(&self.role_reads)
            .map(|r| crate::diagnostic::escaped(&r.variable).chars().count())
            .max()
            .unwrap_or(8)
            .clamp(8, 30);
        let source_width = self
            .rows
            .iter()
            .chain(&self.role_reads)
            .map(|r| r.source.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = writeln!(
            out,
            "{:<name_width$}  {:<source_width$}  OUTCOME",
            "VARIABLE", "SOURCE"
        );
        for row in &self.rows {
            row_lines(&mut out, row, name_width, source_width, &paint);
        }
        if !self.role_reads.is_empty() {
            let _ = writeln!(
                out,
                "\nThe execution role also reads (never in the environment):"
            );
            for row in &self.role_reads {
                row_lines(&mut out, row, name_width, source_width, &paint);
            }
        }
        if !self.source_reads.is_empty() {
            let _ = writeln!(
                out,
                "\nRead from AWS to evaluate the configuration (as terraform plan reads them):"
            );
            for read in &self.source_reads {
                let _ = writeln!(out, "  {read}");
            }
        }
        for f in &self.general {
            wrap(
                &mut out,
                &format!("{}: ", paint("31", "error")),
                &format!("[{}] {}", f.class, f.message),
            );
            if let Some(h) = &f.hint {
                wrap(&mut out, "  hint: ", h);
            }
        }
        for w in &self.warnings {
            wrap(&mut out, &format!("{}: ", paint("33", "warning")), w);
        }
        let failed = self.rows.iter().filter(|r| !r.ok()).count() + self.general.len();
        let reads = if self.role_reads.is_empty() {
            String::new()
        } else {
            let failed = self.role_reads.iter().filter(|r| !r.ok()).count();
            format!(
                "\n{} read by the execution role only: {} ok, {failed} failed",
                self.role_reads.len(),
                self.role_reads.len() - failed
            )
        };
        let _ = writeln!(
            out,
            "\n{} variables: {} ok, {} failed{}{reads}",
            self.rows.len(),
            self.rows.len() - self.rows.iter().filter(|r| !r.ok()).count(),
            failed,
            if self.offline {
                " (offline: syntax and registration checks only)"
            } else {
                ""
            }
        );
        out
    }

    pub(crate) fn to_json(&self) -> String {
        let failure = |f: &Failure| serde_json::json!({"class": f.class.name(), "message": f.message, "tried": f.tried, "hint": f.hint});
        let row_json = |r: &Row| {
            serde_json::json!({
                "variable": r.variable,
                "source": r.source,
                "reference": r.reference,
                "service": r.service,
                "region": r.region,
                "api": r.api,
                "outcome": r.outcome,
                "ok": r.ok(),
                "error": r.failure.as_ref().map(failure),
                "warnings": r.warnings,
            })
        };
        let rows: Vec<serde_json::Value> = self.rows.iter().map(row_json).collect();
        let identity = match &self.identity {
            Some(Ok(arn)) => serde_json::json!(arn),
            _ => serde_json::Value::Null,
        };
        let doc = serde_json::json!({
            "ok": self.passed(),
            "offline": self.offline,
            "identity": identity,
            "identity_error": self.identity.as_ref().and_then(|i| i.as_ref().err()),
            "execution_role": self.execution_role,
            "regions": self.regions(),
            "variables": rows,
            "role_reads": self.role_reads.iter().map(&row_json).collect::<Vec<_>>(),
            "errors": self.general.iter().map(failure).collect::<Vec<_>>(),
            "warnings": self.warnings,
            "source_reads": self.source_reads,
        });
        let mut out = crate::diagnostic::json_for_terminal(
            serde_json::to_string_pretty(&doc).expect("a JSON value serialises"),
        );
        out.push('\n');
        out
    }
}

/// One row of the table: name, source and outcome, then its details indented.
fn row_lines(
    out: &mut String,
    row: &Row,
    name_width: usize,
    source_width: usize,
    paint: &dyn Fn(&str, &str) -> String,
) {
    let outcome = if row.ok() {
        paint("32", row.outcome)
    } else {
        paint("31", row.outcome)
    };
    let name = crate::diagnostic::escaped(&row.variable);
    // A name wider than its column gets a line of its own, so that the columns stay aligned.
    let name = if name.chars().count() > name_width {
        let _ = writeln!(out, "{name}");
        String::new()
    } else {
        name.into_owned()
    };
    let _ = writeln!(
        out,
        "{name:<name_width$}  {:<source_width$}  {outcome}",
        row.source
    );
    if let Some(r) = &row.reference {
        wrap(out, "    ", r);
    }
    if let (Some(service), Some(api), Some(region)) = (row.service, row.api, &row.region) {
        wrap(out, "    ", &format!("{service}:{api} in {region}"));
    }
    if let Some(f) = &row.failure {
        wrap(out, "    ", &format!("[{}] {}", f.class, f.message));
        if let Some(h) = &f.hint {
            wrap(out, "    hint: ", h);
        }
    }
    for w in &row.warnings {
        wrap(out, &format!("    {}: ", paint("33", "warning")), w);
    }
}

/// The `secrets` name a role read has in the plan built for it (`ROLE_READ_0`, ...).
pub(crate) const ROLE_READ: &str = "ROLE_READ_";

/// A row for a planned secret (a variable, or a role read).
fn secret_row(
    s: &crate::resolve::PlannedSecret,
    source: &'static str,
    task_region: Option<&str>,
    offline: bool,
) -> Row {
    let (service, api) = match s.reference {
        SecretRef::SecretsManager(_) => ("secretsmanager", "GetSecretValue"),
        SecretRef::Parameter(_) => ("ssm", "GetParameters"),
    };
    let region = match &s.source {
        SecretSource::Fetch(key) if key.region().is_some() => key.region().map(str::to_owned),
        _ => s.reference.region(task_region).map(str::to_owned),
    };
    Row {
        variable: s.name.clone(),
        source,
        reference: Some(s.value_from.clone()),
        service: Some(service),
        region,
        api: Some(api),
        outcome: if offline { "valid" } else { "ok" },
        failure: None,
        warnings: Vec::new(),
    }
}

/// Why registry credentials cannot be used, if they cannot: ECS expects a JSON object with
/// string `username` and `password`. Nothing of the value is quoted.
fn registry_shape(value: &str) -> Option<Failure> {
    use crate::diagnostic::Class;
    let hint = "store the secret as {\"username\": \"...\", \"password\": \"...\"}";
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(o)) => {
            let missing: Vec<&str> = ["username", "password"]
                .into_iter()
                .filter(|k| !o.get(*k).is_some_and(serde_json::Value::is_string))
                .collect();
            (!missing.is_empty()).then(|| {
                Failure::new(
                    Class::JsonKeyMissing,
                    format!(
                        "the registry credentials lack a string `{}`; ECS cannot pull the image",
                        missing.join("` and `")
                    ),
                )
                .hint(hint)
            })
        }
        _ => Some(
            Failure::new(
                Class::JsonParse,
                "the registry credentials are not a JSON object; ECS cannot pull the image",
            )
            .hint(hint),
        ),
    }
}

/// Warnings where ECS behaves surprisingly (spec section 9) that the plan alone shows.
fn warnings(
    task: Option<&TaskDefinition>,
    container: &ContainerDefinition,
    plan: &Plan,
) -> Vec<String> {
    let mut out = plan.warnings.clone();
    if let Some(td) = task
        && td.shape != Shape::ContainerArray
        && td.execution_role_arn.is_none()
        && !container.secrets.is_empty()
    {
        out.push(
            "the task definition has `secrets` but no `executionRoleArn`; ECS rejects it at \
             registration (the execution role is what reads the secrets)"
                .to_owned(),
        );
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &container.environment {
        *counts.entry(&e.name).or_default() += 1;
    }
    for (name, n) in counts.into_iter().filter(|(_, n)| *n > 1) {
        out.push(format!(
            "`{name}` appears {n} times in `environment`; the last one wins"
        ));
    }
    out
}

/// Append `prefix` + `text`, wrapped to [`WIDTH`] with continuation lines indented under the
/// text (at most 12 columns). Long unbreakable words (ARNs) are split so that every line fits;
/// colour codes in the prefix take no width.
fn wrap(out: &mut String, prefix: &str, text: &str) {
    let visible = textwrap::core::display_width(prefix);
    let indent = " ".repeat(visible.min(12));
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(prefix)
        .subsequent_indent(&indent)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    // The text comes from the task definition or AWS: escaped before it is laid out.
    let text = crate::diagnostic::escaped(text);
    for line in textwrap::wrap(&text, options) {
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_credentials_must_be_a_username_and_password() {
        use crate::diagnostic::Class;
        assert_eq!(
            registry_shape(r#"{"username": "u", "password": "p"}"#),
            None
        );
        let f = registry_shape(r#"{"username": "CANARY-user"}"#).unwrap();
        assert_eq!(f.class, Class::JsonKeyMissing);
        assert!(f.message.contains("`password`"), "{}", f.message);
        let f = registry_shape(r#"{"user": 1, "password": 2}"#).unwrap();
        assert!(
            f.message.contains("`username` and `password`"),
            "{}",
            f.message
        );
        let f = registry_shape("CANARY plain text").unwrap();
        assert_eq!(f.class, Class::JsonParse);
        // Nothing of a value is quoted.
        for v in [r#"{"username": "CANARY-user"}"#, "CANARY plain text"] {
            let f = registry_shape(v).unwrap();
            assert!(!format!("{f:?}").contains("CANARY"));
        }
    }

    #[test]
    fn wrapped_lines_fit_80_columns() {
        let mut out = String::new();
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:a/very/long/path/to/a/secret/name-AbCdEf:password::";
        wrap(&mut out, "    ", arn);
        wrap(
            &mut out,
            "    hint: ",
            &"grant `secretsmanager:GetSecretValue` on the resource ".repeat(4),
        );
        for line in out.lines() {
            assert!(line.chars().count() <= WIDTH, "{line:?}");
        }
        // A colour code in the prefix takes no width; an empty text still prints the prefix.
        let mut coloured = String::new();
        wrap(
            &mut coloured,
            "\x1b[33mwarning\x1b[0m: ",
            &"word ".repeat(30),
        );
        let first = coloured.lines().next().unwrap();
        // 9 visible columns of prefix + 14 words of 5 = 78; counting the codes, only 12 fit.
        assert_eq!(first.chars().count() - "\x1b[33m\x1b[0m".len(), 78);
        let mut empty = String::new();
        wrap(&mut empty, "regions:  ", "");
        assert_eq!(empty, "regions:  \n");
        // Nothing is lost by wrapping.
        let joined: String = out.lines().map(str::trim).collect();
        assert!(joined.contains(&arn.replace(' ', "")[..40]));
    }

    #[test]
    fn a_long_name_keeps_the_columns_aligned() {
        let row = Row::environment;
        let mut out = String::new();
        let plain = |_: &str, text: &str| text.to_owned();
        let long = "A_VARIABLE_NAME_LONGER_THAN_THIRTY_CHARACTERS";
        row_lines(&mut out, &row("SHORT"), 30, 11, &plain);
        row_lines(&mut out, &row(long), 30, 11, &plain);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], long);
        // The outcome column starts at the same place on every row.
        let at = |line: &str| line.find("ok").unwrap();
        assert_eq!(at(lines[0]), at(lines[2]));
        assert_eq!(at(lines[0]), 30 + 2 + 11 + 2);
    }
}
