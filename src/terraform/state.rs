//! Attribute values of other resources and data sources, read from Terraform state.
//!
//! Two documents carry them: the state file itself (`terraform.tfstate`, `terraform state
//! pull`: `resources[]` with `module`, `mode`, `type`, `name` and `instances[]` holding
//! `index_key` and `attributes`), and `terraform show -json` output (`values.root_module`,
//! or `prior_state.values.root_module` in a plan, with `resources[]` and `child_modules[]`).
//! Both are indexed the same way. Nothing is ever derived from configuration: a value that
//! is not in the state is unknown, as it is to Terraform before apply.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::source::Mode;
use super::value::Value;

/// How a resource's instances are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Each {
    /// One instance, no key.
    Single,
    /// `count`: integer keys.
    List,
    /// `for_each`: string keys.
    Map,
}

/// One resource's instances in the state.
#[derive(Debug, Clone)]
pub(crate) struct StateResource {
    pub(crate) each: Each,
    /// (index key, attributes), in state order.
    pub(crate) instances: Vec<(Option<Value>, Value)>,
}

impl StateResource {
    /// The attributes of the instance with this key (`None` for a resource without
    /// `count`/`for_each`).
    pub(crate) fn instance(&self, key: Option<&Value>) -> Option<&Value> {
        self.instances
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, attrs)| attrs)
    }

    /// The value of a reference to the whole resource: its attributes, a list of them
    /// (`count`) or a map of them by key (`for_each`).
    pub(crate) fn whole(&self) -> Value {
        match self.each {
            Each::Single => self
                .instances
                .first()
                .map(|(_, a)| a.clone())
                .unwrap_or(Value::Null),
            Each::List => {
                let mut items: Vec<(f64, Value)> = self
                    .instances
                    .iter()
                    .map(|(k, a)| {
                        let index = match k {
                            Some(Value::Number(n)) => *n,
                            _ => 0.0,
                        };
                        (index, a.clone())
                    })
                    .collect();
                items.sort_by(|a, b| a.0.total_cmp(&b.0));
                Value::List(items.into_iter().map(|(_, a)| a).collect())
            }
            Each::Map => Value::Object(
                self.instances
                    .iter()
                    .filter_map(|(k, a)| match k {
                        Some(Value::String(s)) => Some((s.clone(), a.clone())),
                        _ => None,
                    })
                    .collect(),
            ),
        }
    }
}

/// Key: (module address, `""` for the root; mode; type; name).
type ResourceKey = (String, Mode, String, String);

/// Every resource of a state document, by address.
#[derive(Debug, Clone, Default)]
pub(crate) struct StateIndex {
    resources: BTreeMap<ResourceKey, StateResource>,
}

impl StateIndex {
    /// Indexes a state file or `terraform show -json` output. `None` when the document is
    /// neither.
    pub(crate) fn new(doc: &Json) -> Option<StateIndex> {
        let mut index = StateIndex::default();
        if let Some(resources) = doc.get("resources").and_then(Json::as_array) {
            for r in resources {
                index.add_state_resource(r);
            }
            return Some(index);
        }
        let root = doc
            .pointer("/values/root_module")
            .or_else(|| doc.pointer("/prior_state/values/root_module"));
        if let Some(root) = root {
            index.add_show_module(root, "");
            return Some(index);
        }
        // A `terraform show -json` of an empty state has no `values` at all.
        if doc.get("format_version").is_some() {
            return Some(index);
        }
        None
    }

    fn add_state_resource(&mut self, r: &Json) {
        let text = |k: &str| text_field(r, k);
        let mode = mode_of(r);
        let instances: Vec<(Option<Value>, Value)> = r
            .get("instances")
            .and_then(Json::as_array)
            .map(|list| {
                list.iter()
                    .map(|i| {
                        let key = i.get("index_key").map(Value::from_json);
                        let attrs = i
                            .get("attributes")
                            .map(Value::from_json)
                            .unwrap_or(Value::Null);
                        (key, attrs)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let each = match r.get("each").and_then(Json::as_str) {
            Some("list") => Each::List,
            Some("map") => Each::Map,
            _ => each_from_keys(&instances),
        };
        self.resources.insert(
            (text("module"), mode, text("type"), text("name")),
            StateResource { each, instances },
        );
    }

    fn add_show_module(&mut self, module: &Json, address: &str) {
        for r in module
            .get("resources")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let text = |k: &str| text_field(r, k);
            let mode = mode_of(r);
            let key = r.get("index").map(Value::from_json);
            let attrs = r.get("values").map(Value::from_json).unwrap_or(Value::Null);
            let entry = self
                .resources
                .entry((address.to_owned(), mode, text("type"), text("name")))
                .or_insert(StateResource {
                    each: Each::Single,
                    instances: Vec::new(),
                });
            entry.instances.push((key, attrs));
            entry.each = each_from_keys(&entry.instances);
        }
        for child in module
            .get("child_modules")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let child_address = child
                .get("address")
                .and_then(Json::as_str)
                .unwrap_or_default();
            self.add_show_module(child, child_address);
        }
    }

    /// A resource in the module instance at `module` (`""` for the root).
    pub(crate) fn resource(
        &self,
        module: &str,
        mode: Mode,
        rtype: &str,
        name: &str,
    ) -> Option<&StateResource> {
        self.resources
            .get(&(module.to_owned(), mode, rtype.to_owned(), name.to_owned()))
    }
}

/// A string field of a resource entry (state or `show -json`), empty when absent.
fn text_field(r: &Json, key: &str) -> String {
    r.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `"mode": "data"` is a data source; anything else a managed resource.
fn mode_of(r: &Json) -> Mode {
    match r.get("mode").and_then(Json::as_str) {
        Some("data") => Mode::Data,
        _ => Mode::Managed,
    }
}

fn each_from_keys(instances: &[(Option<Value>, Value)]) -> Each {
    match instances.first().and_then(|(k, _)| k.as_ref()) {
        Some(Value::Number(_)) => Each::List,
        Some(Value::String(_)) => Each::Map,
        _ => Each::Single,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_state_files_and_show_output_alike() {
        let state = serde_json::json!({
            "version": 4,
            "resources": [
                {"module": "module.app", "mode": "managed", "type": "aws_ssm_parameter",
                 "name": "p", "each": "map",
                 "instances": [{"index_key": "x", "attributes": {"arn": "arn:x"}}]}
            ]
        });
        let show = serde_json::json!({
            "format_version": "1.0",
            "values": {"root_module": {"child_modules": [{
                "address": "module.app",
                "resources": [{"address": "module.app.aws_ssm_parameter.p[\"x\"]",
                    "mode": "managed", "type": "aws_ssm_parameter", "name": "p",
                    "index": "x", "values": {"arn": "arn:x"}}]
            }]}}
        });
        for doc in [state, show] {
            let index = StateIndex::new(&doc).unwrap();
            let r = index
                .resource("module.app", Mode::Managed, "aws_ssm_parameter", "p")
                .unwrap();
            assert_eq!(r.each, Each::Map);
            let key = Value::String("x".into());
            let attrs = r.instance(Some(&key)).unwrap();
            let Value::Object(map) = attrs else { panic!() };
            assert_eq!(map["arn"], Value::String("arn:x".into()));
        }
    }
}
