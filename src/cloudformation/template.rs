//! The template itself: its sections, its task-definition resources, and choosing and
//! resolving one of them. Separate from parsing (how the text was read) and from evaluation
//! (how intrinsics are resolved), which it only calls.

use serde_json::Value;

use super::eval::Resolver;
use super::{Context, TASK_DEFINITION_TYPE, Template, TemplateError, Unresolved};

impl Template {
    /// Logical ids of the `AWS::ECS::TaskDefinition` resources, sorted.
    pub(crate) fn task_definition_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .resources()
            .keys()
            .filter(|id| self.resource_type(id) == Some(TASK_DEFINITION_TYPE))
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// Names of the template's `Parameters`, sorted.
    pub(crate) fn parameter_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .section("Parameters")
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The chosen AWS::ECS::TaskDefinition (the only one, or `logical_id`), with intrinsics
    /// resolved, as `{"family"?, "executionRoleArn"?, "containerDefinitions": [{"name",
    /// "environment": [{"name","value"}], "secrets": [{"name","valueFrom"}],
    /// "environmentFiles": [{"value","type"}]}]}` (camelCase; only these fields; absent lists
    /// are omitted).
    ///
    /// Only the fields ecs-env needs are resolved (`Family`, `ExecutionRoleArn`, and in each
    /// `ContainerDefinitions` entry `Name`, `Environment`, `Secrets`, `EnvironmentFiles`);
    /// other properties may hold unresolvable intrinsics without causing errors. Every
    /// unresolvable intrinsic in those fields is collected: the inner `Err` lists them all.
    pub(crate) fn task_definition(
        &self,
        logical_id: Option<&str>,
        ctx: &Context,
    ) -> Result<Result<Value, Vec<Unresolved>>, TemplateError> {
        let ids = self.task_definition_ids();
        let id = match logical_id {
            Some(wanted) => {
                if !ids.iter().any(|id| id == wanted) {
                    return Err(TemplateError::UnknownResource {
                        wanted: wanted.to_owned(),
                        available: ids,
                    });
                }
                wanted.to_owned()
            }
            None => match ids.as_slice() {
                [] => return Err(TemplateError::NoTaskDefinition),
                [only] => only.clone(),
                _ => return Err(TemplateError::Ambiguous(ids)),
            },
        };
        let resolver = Resolver::new(self, ctx);
        let resolved = resolver.task_definition(&id);
        if resolved.is_ok() {
            // Checked only after a complete resolution: only then has every Fn::ImportValue
            // of the task definition asked for its export.
            let declared = self.parameter_names();
            let imported = resolver.imports.into_inner();
            let unknown: Vec<String> = ctx
                .parameters
                .keys()
                .filter(|k| !declared.contains(k) && !imported.contains(*k))
                .cloned()
                .collect();
            if !unknown.is_empty() {
                return Err(TemplateError::UnknownParameters { unknown, declared });
            }
        }
        Ok(resolved)
    }
}
