//! Module instances: the root and each `module` call's instances (`count`/`for_each`),
//! where a call's source is on disk (a local path, or `.terraform/modules/modules.json`),
//! and `module.NAME` references to their outputs.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::{Decorated, Span};

use super::eval::{
    Collect, Eval, Evaluator, Failure, Iteration, Memo, Scope, ScopeKind, Slot, iteration_matches,
    key_suffix, prefix,
};
use super::source::{Attr, Module, ModuleCall, display_join, load_module};
use super::value::Value;

/// How a module instance's variables are set: by a `module` block of its parent.
#[derive(Debug, Clone)]
pub(super) struct CallSite {
    pub(super) parent: usize,
    pub(super) name: String,
    pub(super) iteration: Iteration,
}

/// One instance of a module (the root, or `module.x["k"]`).
#[derive(Debug)]
pub(crate) struct ModuleInst {
    pub(crate) module: Arc<Module>,
    /// `""` for the root, else `module.a["k"].module.b`, as in state.
    pub(crate) address: String,
    /// `a.b`: the key of `.terraform/modules/modules.json` (instance keys left out).
    pub(crate) manifest_key: String,
    /// `path.module`: the module directory relative to the root module.
    pub(super) path_module: String,
    /// `None` for the root, whose variables come from [`Evaluator::root_vars`].
    pub(super) call: Option<CallSite>,
    pub(super) vars: HashMap<String, Slot>,
    pub(super) locals: HashMap<String, Slot>,
    pub(super) outputs: HashMap<String, Slot>,
    pub(super) planned: HashMap<String, Slot>,
    /// (call name, instance key suffix) → instance index.
    pub(super) children: HashMap<(String, String), usize>,
}

impl ModuleInst {
    pub(super) fn memo(&mut self, table: Memo) -> &mut HashMap<String, Slot> {
        match table {
            Memo::Vars => &mut self.vars,
            Memo::Locals => &mut self.locals,
            Memo::Outputs => &mut self.outputs,
            Memo::Planned => &mut self.planned,
        }
    }
}

/// How deep modules may nest before a self-including module is assumed.
const MAX_MODULE_DEPTH: usize = 32;

impl Evaluator {
    /// An output of a module instance.
    fn output(
        &mut self,
        inst: usize,
        name: &str,
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Eval {
        let module = self.insts[inst].module.clone();
        let Some(attr) = module.outputs.get(name) else {
            return Err(Failure::fatal(scope.problem(
                span,
                format!("module {} has no output `{name}`", self.insts[inst].address),
                "",
            )));
        };
        let cycle = || scope.problem(span, format!("output `{name}` depends on itself"), "");
        self.memoised(inst, Memo::Outputs, name, cycle, |ev| {
            ev.eval_attr(inst, attr, Iteration::None)
        })
    }

    /// `module.NAME[KEY].OUTPUT`: returns the value and how many operators it used.
    pub(super) fn module_ref(
        &mut self,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Result<(Value, usize), Failure> {
        let Some(TraversalOperator::GetAttr(call_name)) = ops.first().map(|o| o.value()) else {
            return Err(Failure::fatal(scope.problem(
                span,
                "invalid reference: `module` must be followed by a module name",
                "",
            )));
        };
        let key = self.index_key(ops.get(1), scope)?;
        let used = 1 + usize::from(key.is_some());
        let module = self.insts[scope.inst].module.clone();
        if let (None, Some(call)) = (&key, module.calls.get(call_name.as_str()))
            && (call.count.is_some() || call.for_each.is_some())
        {
            // The whole expanded module: a list (count) or map (for_each) of instances, each
            // an object of its outputs.
            let instances = self
                .expand_call(scope.inst, call_name.as_str(), call, scope, span.clone())?
                .unwrap_or_default();
            let mut list = Vec::new();
            let mut map = BTreeMap::new();
            let mut collect = Collect::default();
            for it in instances {
                let child = self.instantiate(scope.inst, call_name.as_str(), call, it.clone())?;
                let r = self.all_outputs(child, scope, span.clone());
                if let Some(obj) = collect.take(r) {
                    match it {
                        Iteration::Each { key, .. } => {
                            map.insert(key, obj);
                        }
                        _ => list.push(obj),
                    }
                }
            }
            let value = if call.for_each.is_some() {
                Value::Object(map)
            } else {
                Value::List(list)
            };
            return Ok((collect.finish(value)?, used));
        }
        let child = self.child_instance(
            scope.inst,
            call_name.as_str(),
            key.as_ref(),
            scope,
            span.clone(),
        )?;
        match ops.get(used).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(out)) => {
                let v = self.output(child, out.as_str(), scope, span)?;
                Ok((v, used + 1))
            }
            _ => Ok((self.all_outputs(child, scope, span)?, used)),
        }
    }

    /// A module instance as a value: an object of all its outputs.
    fn all_outputs(&mut self, child: usize, scope: &Scope, span: Option<Range<usize>>) -> Eval {
        let names: Vec<String> = self.insts[child].module.outputs.keys().cloned().collect();
        let mut collect = Collect::default();
        let mut map = BTreeMap::new();
        for n in names {
            // An output not known here is an unknown attribute of the object, as in
            // Terraform: the other outputs stay usable.
            let r = self.output(child, &n, scope, span.clone());
            let r = self.soften(r, scope);
            if let Some(v) = collect.take(r) {
                map.insert(n, v);
            }
        }
        collect.finish(Value::Object(map))
    }

    /// The instances of a module call, guarding against a `count`/`for_each` that refers to
    /// the module itself.
    fn expand_call(
        &mut self,
        inst: usize,
        call_name: &str,
        call: &ModuleCall,
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Result<Option<Vec<Iteration>>, Failure> {
        let guard = (inst, call_name.to_owned());
        if !self.expanding.insert(guard.clone()) {
            return Err(Failure::fatal(scope.problem(
                span,
                format!(
                    "the count or for_each of module \"{call_name}\" depends on the module itself"
                ),
                "",
            )));
        }
        let result = self.expand(
            inst,
            call.count.as_ref(),
            call.for_each.as_ref(),
            &Iteration::None,
        );
        self.expanding.remove(&guard);
        result
    }

    /// The instance of module call `call_name` of instance `inst` with instance key `key`.
    pub(crate) fn child_instance(
        &mut self,
        inst: usize,
        call_name: &str,
        key: Option<&Value>,
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Result<usize, Failure> {
        let module = self.insts[inst].module.clone();
        let Some(call) = module.calls.get(call_name) else {
            return Err(Failure::fatal(scope.problem(
                span,
                format!(
                    "there is no module \"{call_name}\" in {}",
                    module.display_dir
                ),
                "",
            )));
        };
        let instances = self.expand_call(inst, call_name, call, scope, span.clone())?;
        let base = format!("{}module.{call_name}", prefix(&self.insts[inst].address));
        let iteration = match (instances, key) {
            (None, None) => Iteration::None,
            (Some(list), Some(key)) => match list.into_iter().find(|it| iteration_matches(it, key))
            {
                Some(it) => it,
                None => {
                    return Err(Failure::error(scope.problem(
                        span,
                        format!("{base} has no instance {}", key_suffix(key)),
                        "",
                    )));
                }
            },
            (Some(_), None) => {
                return Err(Failure::fatal(scope.problem(
                    span,
                    format!("{base} has count or for_each: name one instance, as module.{call_name}[KEY]"),
                    "",
                )));
            }
            (None, Some(_)) => {
                return Err(Failure::error(scope.problem(
                    span,
                    format!("{base} has no count or for_each, so it cannot be indexed"),
                    "",
                )));
            }
        };
        self.instantiate(inst, call_name, call, iteration)
    }

    /// Creates (once) the module instance for a call and an instance key.
    pub(crate) fn instantiate(
        &mut self,
        parent: usize,
        call_name: &str,
        call: &ModuleCall,
        iteration: Iteration,
    ) -> Result<usize, Failure> {
        let cache_key = (call_name.to_owned(), iteration.address_suffix());
        if let Some(&i) = self.insts[parent].children.get(&cache_key) {
            return Ok(i);
        }
        let address = format!(
            "{}module.{call_name}{}",
            prefix(&self.insts[parent].address),
            iteration.address_suffix()
        );
        if address.matches("module.").count() > MAX_MODULE_DEPTH {
            return Err(Failure::fatal(call.file.problem(
                call.span.clone(),
                "modules nest too deep: does a module include itself?",
                "",
            )));
        }
        let manifest_key = if self.insts[parent].manifest_key.is_empty() {
            call_name.to_owned()
        } else {
            format!("{}.{call_name}", self.insts[parent].manifest_key)
        };
        let parent_module = self.insts[parent].module.clone();
        let (dir, display, path_module) = self.locate(
            &parent_module,
            &self.insts[parent].path_module,
            call_name,
            call,
            &manifest_key,
        )?;
        let module = self.load(&dir, &display)?;
        self.insts.push(ModuleInst {
            module,
            address,
            manifest_key,
            path_module,
            call: Some(CallSite {
                parent,
                name: call_name.to_owned(),
                iteration,
            }),
            vars: HashMap::new(),
            locals: HashMap::new(),
            outputs: HashMap::new(),
            planned: HashMap::new(),
            children: HashMap::new(),
        });
        let i = self.insts.len() - 1;
        self.insts[parent].children.insert(cache_key, i);
        Ok(i)
    }

    /// Where a module call's source is on disk: a local path, or the directory `terraform
    /// init` installed it in. Returns the directory, its display path, and `path.module`.
    pub(crate) fn locate(
        &self,
        parent: &Module,
        parent_path_module: &str,
        call_name: &str,
        call: &ModuleCall,
        manifest_key: &str,
    ) -> Result<(PathBuf, String, String), Failure> {
        let Some(source_attr) = &call.source else {
            return Err(Failure::fatal(call.file.problem(
                call.span.clone(),
                format!("module \"{call_name}\" has no `source`"),
                "",
            )));
        };
        let source = match &source_attr.expr {
            Expression::String(s) => s.value().clone(),
            _ => {
                return Err(Failure::fatal(call.file.problem(
                    source_attr.expr.span(),
                    "a module source must be a literal string",
                    "",
                )));
            }
        };
        if is_local_source(&source) {
            let dir = parent.dir.join(&source);
            let display = display_join(&parent.display_dir, &source);
            let path_module = display_join(parent_path_module, &source);
            return Ok((dir, display, path_module));
        }
        if let Some(rel) = self.manifest.get(manifest_key) {
            let dir = self.root_dir.join(rel);
            let root_display = &self.insts[0].module.display_dir;
            return Ok((dir, display_join(root_display, rel), display_join(".", rel)));
        }
        Err(Failure::fatal(call.file.problem(
            source_attr.expr.span(),
            format!("module source {source} is not a local path; its source is out of reach"),
            "run `terraform init` (ecs-env then reads the module from .terraform/modules), or pass `terraform show -json` output instead",
        )))
    }

    /// Reads a module directory once.
    pub(crate) fn load(&mut self, dir: &Path, display: &str) -> Result<Arc<Module>, Failure> {
        if let Some(m) = self.loaded.get(dir) {
            return Ok(m.clone());
        }
        let m = Arc::new(load_module(dir, display).map_err(|problems| Failure {
            problems,
            fatal: true,
            unknown: false,
        })?);
        self.loaded.insert(dir.to_path_buf(), m.clone());
        self.files.allow(dir);
        Ok(m)
    }

    /// The instances a `count` or `for_each` makes: `None` when the block has neither.
    pub(crate) fn expand(
        &mut self,
        inst: usize,
        count: Option<&Attr>,
        for_each: Option<&Attr>,
        outer: &Iteration,
    ) -> Result<Option<Vec<Iteration>>, Failure> {
        if let Some(attr) = for_each {
            let scope = Scope::new(inst, attr.file.clone(), outer.clone(), ScopeKind::Config);
            let v = self.eval(&attr.expr, &scope)?;
            let v = match &v {
                Value::Object(map) => {
                    let keys: Vec<Value> = map.keys().cloned().map(Value::String).collect();
                    self.unknowns.known(Value::List(keys))?;
                    v
                }
                _ => self.unknowns.known(v)?,
            };
            let bad = |m: &str| {
                Failure::fatal(scope.problem(
                    attr.expr.span(),
                    m.to_owned(),
                    "wrap a list in toset()",
                ))
            };
            return match v {
                Value::Object(map) => Ok(Some(
                    map.into_iter()
                        .map(|(key, value)| Iteration::Each { key, value })
                        .collect(),
                )),
                Value::Set(items) => items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(Iteration::Each {
                            key: s.clone(),
                            value: Value::String(s),
                        }),
                        _ => Err(bad("for_each needs a map, or a set of strings")),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Value::List(_) => Err(bad("for_each needs a map, or a set of strings, not a list")),
                other => Err(bad(&format!(
                    "for_each needs a map, or a set of strings, not a {}",
                    other.type_name()
                ))),
            };
        }
        if let Some(attr) = count {
            let scope = Scope::new(inst, attr.file.clone(), outer.clone(), ScopeKind::Config);
            let v = self.eval(&attr.expr, &scope);
            let v = self.known(v)?;
            return match v.to_number() {
                Some(n) if n >= 0.0 && n.fract() == 0.0 => {
                    Ok(Some((0..n as usize).map(Iteration::Count).collect()))
                }
                _ => Err(Failure::fatal(scope.problem(
                    attr.expr.span(),
                    "count must be a whole number, 0 or more",
                    "",
                ))),
            };
        }
        Ok(None)
    }
}

/// Terraform's local module sources start with `./` or `../`.
fn is_local_source(source: &str) -> bool {
    source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with(".\\")
        || source.starts_with("..\\")
}

/// `.terraform/modules/modules.json`, written by `terraform init`: module key → directory.
pub(super) fn read_manifest(root: &Path) -> BTreeMap<String, String> {
    let path = root.join(".terraform").join("modules").join("modules.json");
    let Ok(text) = crate::files::read_text(&path, crate::files::MAX_SOURCE_BYTES) else {
        return BTreeMap::new();
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    doc.get("Modules")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let key = m.get("Key")?.as_str()?;
            let dir = m.get("Dir")?.as_str()?;
            (!key.is_empty()).then(|| (key.to_owned(), dir.to_owned()))
        })
        .collect()
}
