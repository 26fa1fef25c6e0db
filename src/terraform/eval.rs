//! The expression evaluator: Terraform's expression language over `hcl-edit`'s syntax tree.
//!
//! Why not `hcl::eval`: its user functions are plain `fn` pointers, so `file` and
//! `templatefile` could not know the module directory and `try` could not evaluate its
//! arguments lazily; it stops at the first error, where ecs-env reports every problem at
//! once; and its tree has no source positions. `hcl-edit`'s tree (re-exported as
//! `hcl::edit`) keeps a byte span on every expression, so each problem names its file,
//! line and the exact text that failed.
//!
//! Evaluation is lazy and memoised: a local, a variable or a module output is computed
//! when first referenced, once, and a reference cycle is reported rather than followed.
//! Nothing unreferenced is evaluated, so a local the task definition does not use cannot
//! fail the load.
//!
//! A failed evaluation carries all the problems found beneath it, and whether `try()` may
//! swallow them: a missing input (variable without value, value not in state, module out
//! of reach) is never swallowed, because to Terraform it is not an error but a value not
//! known yet, and `try` does not replace unknown values.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use hcl::edit::expr::{
    BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl::edit::{Decorated, Span};

use super::Problem;
use super::files::{Confinement, FileAccess};
use super::modules::{ModuleInst, read_manifest};
use super::source::{Attr, Mode, Module, ResourceDecl, SourceFile, display_join};
use super::state::{Each, StateIndex};
use super::types::{Ty, convert, parse_type};
use super::value::{Value, format_number, quote_json};
use super::vars::{Assigned, Raw};

/// Hint for a value that only the state knows.
pub(crate) const STATE_HINT: &str = "pass --tfstate FILE (terraform state pull > state.json)";

/// Why an evaluation failed: every problem found, and whether `try()`/`can()` may catch it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// Every problem found beneath the failed expression, in source order.
    pub(crate) problems: Vec<Problem>,
    /// A missing input or an invalid configuration, not a dynamic error: never caught.
    pub(crate) fatal: bool,
    /// Only values not known here (no state, no value for a variable, a function ecs-env
    /// cannot evaluate): what Terraform's plan calls "known after apply" or asks for. Where
    /// a value may be unknown, such a failure becomes a marker (see `unknown`).
    pub(crate) unknown: bool,
}

impl Failure {
    /// A failure `try()` must not hide: a missing input, an invalid configuration.
    pub(crate) fn fatal(problem: Problem) -> Failure {
        Failure {
            problems: vec![problem],
            fatal: true,
            unknown: false,
        }
    }

    /// A value not known here: fatal, and softened where a value may be unknown.
    pub(crate) fn unknown(problem: Problem) -> Failure {
        Failure {
            problems: vec![problem],
            fatal: true,
            unknown: true,
        }
    }

    /// A dynamic error (a missing map key, a bad argument): `try()` falls back on it.
    pub(crate) fn error(problem: Problem) -> Failure {
        Failure {
            problems: vec![problem],
            fatal: false,
            unknown: false,
        }
    }
}

/// The result of evaluating an expression.
pub(crate) type Eval = Result<Value, Failure>;

/// Accumulates the failures of sibling evaluations (array elements, function arguments) so
/// that all of them are reported, not only the first.
#[derive(Default)]
pub(super) struct Collect {
    failure: Option<Failure>,
}

impl Collect {
    pub(super) fn take<T>(&mut self, result: Result<T, Failure>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(f) => {
                self.add(f);
                None
            }
        }
    }

    pub(super) fn add(&mut self, f: Failure) {
        match &mut self.failure {
            Some(acc) => {
                acc.problems.extend(f.problems);
                acc.fatal |= f.fatal;
                // Unknown only if every part is: an invalid input must still be reported.
                acc.unknown &= f.unknown;
            }
            None => self.failure = Some(f),
        }
    }

    pub(super) fn finish<T>(self, value: T) -> Result<T, Failure> {
        match self.failure {
            Some(f) => Err(f),
            None => Ok(value),
        }
    }
}

/// Whether a `format` string has a verb with a precision (`%.3s`), which could cut a marker
/// short.
fn format_truncates(f: &str) -> bool {
    let mut rest = f;
    while let Some(at) = rest.find('%') {
        rest = &rest[at + 1..];
        let spec: String = rest
            .chars()
            .take_while(|c| !c.is_ascii_alphabetic() && *c != '%')
            .collect();
        if spec.contains('.') {
            return true;
        }
        rest = rest.strip_prefix('%').unwrap_or(rest);
    }
    false
}

/// `count.index` or `each.key`/`each.value` of the block being evaluated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Iteration {
    /// The block has neither `count` nor `for_each`.
    None,
    /// `count.index`.
    Count(usize),
    /// `each.key` and `each.value` (for a set of strings, both are the element).
    Each { key: String, value: Value },
}

impl Iteration {
    /// The instance key as it appears in an address: `[0]`, `["web"]`, or nothing.
    pub(crate) fn address_suffix(&self) -> String {
        match self {
            Iteration::None => String::new(),
            Iteration::Count(i) => format!("[{i}]"),
            Iteration::Each { key, .. } => {
                let mut quoted = String::new();
                quote_json(key, &mut quoted);
                format!("[{quoted}]")
            }
        }
    }
}

/// What names an expression may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    /// Configuration: `var`, `local`, resources, modules, functions.
    Config,
    /// A `templatefile` template: only the variables passed to it, and functions.
    Template,
    /// A `.tfvars` file, a `-var` value, a variable default: literals only.
    Literal,
}

/// A name bound by a `for` expression or a template directive.
#[derive(Debug)]
struct Binding {
    name: String,
    value: Value,
    next: Option<Rc<Binding>>,
}

/// Where an expression is evaluated.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// The module instance whose `var`, `local`, resources and modules are meant.
    pub(crate) inst: usize,
    /// The file the expression is written in: problems are located there.
    pub(crate) file: Arc<SourceFile>,
    /// `count`/`each` of the enclosing block.
    pub(crate) iteration: Rc<Iteration>,
    /// `for` and template-directive variables, innermost first.
    bindings: Option<Rc<Binding>>,
    /// What the expression may refer to.
    pub(crate) kind: ScopeKind,
}

impl Scope {
    pub(crate) fn new(
        inst: usize,
        file: Arc<SourceFile>,
        iteration: Iteration,
        kind: ScopeKind,
    ) -> Scope {
        Scope {
            inst,
            file,
            iteration: Rc::new(iteration),
            bindings: None,
            kind,
        }
    }

    pub(super) fn bind(&self, name: &str, value: Value) -> Scope {
        let mut scope = self.clone();
        scope.bindings = Some(Rc::new(Binding {
            name: name.to_owned(),
            value,
            next: self.bindings.clone(),
        }));
        scope
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        let mut cursor = self.bindings.as_deref();
        while let Some(b) = cursor {
            if b.name == name {
                return Some(&b.value);
            }
            cursor = b.next.as_deref();
        }
        None
    }

    /// The text `span` covers in the scope's file; empty without a span.
    fn source(&self, span: Option<Range<usize>>) -> &str {
        span.and_then(|r| self.file.text.get(r)).unwrap_or_default()
    }

    pub(crate) fn problem(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Problem {
        self.file.problem(span, message, hint)
    }
}

/// A memoised named value.
#[derive(Debug, Clone)]
pub(super) enum Slot {
    /// Being computed: meeting it again is a reference cycle.
    Busy,
    /// Computed, successfully or not.
    Done(Eval),
}

/// A module instance's tables of memoised values.
#[derive(Debug, Clone, Copy)]
pub(super) enum Memo {
    Vars,
    Locals,
    Outputs,
    /// Configured arguments of resources the state lacks (`TYPE.NAME[KEY].ARG`).
    Planned,
}

/// Evaluates expressions of one configuration.
#[derive(Debug)]
pub(crate) struct Evaluator {
    /// Where `terraform` runs: relative paths in `file()` and friends start here.
    pub(crate) root_dir: PathBuf,
    /// Attribute values of resources and data sources; `None` when no state was given.
    pub(crate) state: Option<StateIndex>,
    /// The root module's variable assignments, winners only (see `vars`).
    pub(crate) root_vars: BTreeMap<String, Assigned>,
    /// `terraform.workspace`.
    pub(crate) workspace: String,
    /// Module instances; 0 is the root.
    pub(crate) insts: Vec<ModuleInst>,
    /// Parsed module directories, shared by all instances of a module.
    pub(super) loaded: HashMap<PathBuf, Arc<Module>>,
    /// `.terraform/modules/modules.json`: module key → directory, for non-local sources.
    pub(super) manifest: BTreeMap<String, String>,
    /// Module calls whose `count`/`for_each` is being evaluated (cycle guard).
    pub(super) expanding: HashSet<(usize, String)>,
    /// How `file()` and friends read: confined to the directories of the modules loaded so
    /// far, unless a caller puts another [`FileAccess`] here (a test's in-memory tree).
    pub(crate) files: Box<dyn FileAccess>,
    /// The values not known here, behind the markers that stand for them.
    pub(crate) unknowns: super::unknown::Unknowns,
    /// The task region: `data.aws_region`, `data.aws_partition`.
    pub(crate) region: Option<String>,
    /// `data.aws_caller_identity`.
    pub(crate) caller: super::data::Caller,
    /// What AWS answered for lookups asked for by an earlier evaluation, or why it could not.
    pub(crate) looked_up: BTreeMap<super::data::Lookup, Result<Value, String>>,
    /// Lookups this evaluation asked for and did not have, each with the problem that stands
    /// for its value until it is answered.
    pub(crate) wanted: Vec<(super::data::Ask, Problem)>,
    /// Whether AWS may be asked: data sources plan reads are then read as plan reads them,
    /// even where the state holds an older copy.
    pub(crate) live: bool,
    /// Problems that stop what the caller needs besides the evaluation's own: the unknown
    /// role ARNs when a role is assumed.
    pub(crate) blocking: Vec<Problem>,
}

impl Evaluator {
    /// An evaluator whose root module (instance 0) is `root`.
    pub(crate) fn new(root: Arc<Module>, state: Option<StateIndex>) -> Evaluator {
        let root_dir = root.dir.clone();
        let manifest = read_manifest(&root_dir);
        let mut loaded = HashMap::new();
        loaded.insert(root_dir.clone(), root.clone());
        let mut files = Confinement::default();
        files.allow(&root_dir);
        Evaluator {
            root_dir,
            state,
            root_vars: BTreeMap::new(),
            workspace: "default".to_owned(),
            insts: vec![ModuleInst {
                module: root,
                address: String::new(),
                manifest_key: String::new(),
                path_module: ".".to_owned(),
                call: None,
                vars: HashMap::new(),
                locals: HashMap::new(),
                outputs: HashMap::new(),
                planned: HashMap::new(),
                children: HashMap::new(),
            }],
            loaded,
            manifest,
            expanding: HashSet::new(),
            files: Box::new(files),
            unknowns: super::unknown::Unknowns::default(),
            region: None,
            caller: super::data::Caller::default(),
            looked_up: BTreeMap::new(),
            blocking: Vec::new(),
            live: false,
            wanted: Vec::new(),
        }
    }

    /// An element's result, where an element may be unknown (a list or object element, a
    /// template interpolation): a missing input becomes a marker (see `unknown`), so that
    /// the rest of the value is still known. Dynamic errors stay errors: `try()` must see them.
    pub(super) fn soften(&mut self, r: Eval, scope: &Scope) -> Eval {
        match r {
            Err(f) if f.unknown && scope.kind == ScopeKind::Config => {
                Ok(self.unknowns.mark(f.problems))
            }
            r => r,
        }
    }

    /// A value an operation looks at: any marker in it is its problems instead.
    pub(super) fn known(&self, r: Eval) -> Eval {
        r.and_then(|v| self.unknowns.known(v))
    }

    /// Evaluates an attribute of a block in module instance `inst`.
    pub(crate) fn eval_attr(&mut self, inst: usize, attr: &Attr, iteration: Iteration) -> Eval {
        let scope = Scope::new(inst, attr.file.clone(), iteration, ScopeKind::Config);
        self.eval(&attr.expr, &scope)
    }

    /// Evaluates a literal (`.tfvars`, `-var`, defaults): no references, no functions.
    pub(crate) fn eval_literal(&mut self, expr: &Expression, file: Arc<SourceFile>) -> Eval {
        let scope = Scope::new(0, file, Iteration::None, ScopeKind::Literal);
        self.eval(expr, &scope)
    }

    /// Evaluates one expression.
    pub(crate) fn eval(&mut self, expr: &Expression, scope: &Scope) -> Eval {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => match n.value().as_f64() {
                // The parser folds a minus into the literal, and `-0` into 0; Terraform keeps
                // the sign (`yamlencode(-0)` is `-0`), so the source says which it was.
                Some(n) if n == 0.0 && scope.source(expr.span()).starts_with('-') => {
                    Ok(Value::Number(-0.0))
                }
                Some(n) => Ok(Value::Number(n)),
                None => Err(Failure::fatal(scope.problem(
                    expr.span(),
                    "number out of range",
                    "",
                ))),
            },
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(items) => {
                let mut collect = Collect::default();
                let values: Vec<Value> = items
                    .iter()
                    .filter_map(|item| {
                        let r = self.eval(item, scope);
                        let r = self.soften(r, scope);
                        collect.take(r)
                    })
                    .collect();
                collect.finish(Value::List(values))
            }
            Expression::Object(object) => {
                let mut collect = Collect::default();
                let mut map = BTreeMap::new();
                for (key, value) in object.iter() {
                    let key = match key {
                        ObjectKey::Ident(id) => Ok(id.as_str().to_owned()),
                        ObjectKey::Expression(k) => self.eval_key(k, scope),
                    };
                    let value = self.eval(value.expr(), scope);
                    let value = self.soften(value, scope);
                    if let (Some(k), Some(v)) = (collect.take(key), collect.take(value)) {
                        map.insert(k, v);
                    }
                }
                collect.finish(Value::Object(map))
            }
            Expression::StringTemplate(t) => self.eval_template(t, scope),
            Expression::HeredocTemplate(h) => self.eval_template(&h.template, scope),
            Expression::Parenthesis(p) => self.eval(p.inner(), scope),
            Expression::Variable(_) | Expression::Traversal(_) => self.eval_traversal(expr, scope),
            Expression::Conditional(c) => {
                let cond = self.eval(&c.cond_expr, scope);
                let cond = self.known(cond)?;
                // Only the chosen branch is evaluated: a problem in the other one is not one
                // in the result.
                match cond.to_bool() {
                    Some(true) => self.eval(&c.true_expr, scope),
                    Some(false) => self.eval(&c.false_expr, scope),
                    None => Err(Failure::error(scope.problem(
                        c.cond_expr.span(),
                        format!("the condition is a {}, not a bool", cond.type_name()),
                        "",
                    ))),
                }
            }
            Expression::FuncCall(call) => self.call(call, expr.span(), scope),
            Expression::UnaryOp(op) => {
                let v = self.eval(&op.expr, scope);
                let v = self.known(v)?;
                match (op.operator.value(), &v) {
                    (UnaryOperator::Not, v) if v.to_bool().is_some() => {
                        Ok(Value::Bool(!v.to_bool().unwrap_or_default()))
                    }
                    (UnaryOperator::Neg, v) if v.to_number().is_some() => {
                        Ok(Value::Number(-v.to_number().unwrap_or_default()))
                    }
                    (op, v) => Err(Failure::error(scope.problem(
                        expr.span(),
                        format!("operator {op:?} does not apply to a {}", v.type_name()),
                        "",
                    ))),
                }
            }
            Expression::BinaryOp(op) => {
                // Terraform evaluates both operands (no short-circuit), so both are checked.
                let mut collect = Collect::default();
                let l = self.eval(&op.lhs_expr, scope);
                let r = self.eval(&op.rhs_expr, scope);
                if let Some(known) = null_test(*op.operator.value(), &l, &r) {
                    return Ok(Value::Bool(known));
                }
                let l = self.known(l);
                let r = self.known(r);
                let (l, r) = (collect.take(l), collect.take(r));
                let (Some(l), Some(r)) = (l, r) else {
                    return collect.finish(Value::Null);
                };
                binary(*op.operator.value(), &l, &r)
                    .map_err(|m| Failure::error(scope.problem(expr.span(), m, "")))
            }
            Expression::ForExpr(f) => self.eval_for(f, expr.span(), scope),
        }
    }

    /// An object key expression: a string, or a number or bool converted to one.
    fn eval_key(&mut self, expr: &Expression, scope: &Scope) -> Result<String, Failure> {
        let v = self.eval(expr, scope);
        let v = self.known(v)?;
        v.to_str().ok_or_else(|| {
            Failure::error(scope.problem(
                expr.span(),
                format!("an object key must be a string, not a {}", v.type_name()),
                "",
            ))
        })
    }

    /// `[for ...]` and `{for ...}`, with `if` filters and `...` grouping.
    fn eval_for(&mut self, f: &ForExpr, span: Option<Range<usize>>, scope: &Scope) -> Eval {
        let collection = self.eval(&f.intro.collection_expr, scope)?;
        let collection = self.whole(collection)?;
        let pairs: Vec<(Value, Value)> = match collection {
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
            Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect(),
            other => {
                return Err(Failure::error(scope.problem(
                    f.intro.collection_expr.span(),
                    format!(
                        "a for expression needs a collection, not a {}",
                        other.type_name()
                    ),
                    "",
                )));
            }
        };
        let mut collect = Collect::default();
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in pairs {
            let mut inner = scope.bind(f.intro.value_var.as_str(), v);
            if let Some(key_var) = &f.intro.key_var {
                inner = inner.bind(key_var.as_str(), k);
            }
            if let Some(cond) = &f.cond {
                let keep = self.eval(&cond.expr, &inner);
                let keep = self.known(keep).and_then(|c| {
                    c.to_bool().ok_or_else(|| {
                        Failure::error(inner.problem(
                            cond.expr.span(),
                            format!("the `if` clause is a {}, not a bool", c.type_name()),
                            "",
                        ))
                    })
                });
                match collect.take(keep) {
                    Some(true) => {}
                    _ => continue,
                }
            }
            // An element's value may be unknown, as in a list or object literal (Terraform's
            // result is then known but for that element); its key and the `if` clause may not,
            // since they decide the result's shape.
            match &f.key_expr {
                None => {
                    let v = self.eval(&f.value_expr, &inner);
                    let v = self.soften(v, &inner);
                    if let Some(v) = collect.take(v) {
                        list.push(v);
                    }
                }
                Some(key_expr) => {
                    let key = self.eval_key(key_expr, &inner);
                    let value = self.eval(&f.value_expr, &inner);
                    let value = self.soften(value, &inner);
                    let (Some(key), Some(value)) = (collect.take(key), collect.take(value)) else {
                        continue;
                    };
                    if f.grouping {
                        groups.entry(key).or_default().push(value);
                    } else {
                        match map.entry(key) {
                            Entry::Occupied(e) => collect.add(Failure::error(scope.problem(
                                span.clone(),
                                format!("duplicate key \"{}\" in a for expression", e.key()),
                                "add `...` after the value to group values by key",
                            ))),
                            Entry::Vacant(e) => {
                                e.insert(value);
                            }
                        }
                    }
                }
            }
        }
        map.extend(groups.into_iter().map(|(k, items)| (k, Value::List(items))));
        collect.finish(if f.key_expr.is_some() {
            Value::Object(map)
        } else {
            Value::List(list)
        })
    }

    /// A variable or a traversal: a binding, or a Terraform reference (`var.x`,
    /// `local.x`, `aws_x.y.attr`, `data.x.y.attr`, `module.x.out`, `each`, `count`,
    /// `path`, `terraform`), followed by attribute and index operators.
    fn eval_traversal(&mut self, expr: &Expression, scope: &Scope) -> Eval {
        let span = expr.span();
        let (root, ops): (&Expression, &[Decorated<TraversalOperator>]) = match expr {
            Expression::Traversal(t) => (&t.expr, &t.operators),
            other => (other, &[]),
        };
        let Expression::Variable(ident) = root else {
            let value = self.eval(root, scope)?;
            return self.apply_ops(value, ops, scope, span);
        };
        let name = ident.as_str();
        if let Some(value) = scope.lookup(name) {
            let value = value.clone();
            return self.apply_ops(value, ops, scope, span);
        }
        match scope.kind {
            ScopeKind::Config => {}
            ScopeKind::Template => {
                return Err(Failure::fatal(scope.problem(
                    span,
                    format!("`{name}` is not one of the variables passed to templatefile()"),
                    "add it to the variables object of the templatefile() call",
                )));
            }
            ScopeKind::Literal => {
                return Err(Failure::fatal(scope.problem(
                    span,
                    "references are not allowed here: only literal values",
                    "",
                )));
            }
        }
        let attr_at = |i: usize| -> Option<&str> {
            match ops.get(i).map(|op| op.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                _ => None,
            }
        };
        let invalid = |what: &str| {
            Err(Failure::fatal(scope.problem(
                span.clone(),
                format!("invalid reference: {what}"),
                "",
            )))
        };
        let (value, used) = match name {
            "var" => match attr_at(0) {
                Some(v) => (self.variable(scope.inst, v, scope, span.clone())?, 1),
                None => return invalid("`var` must be followed by a variable name"),
            },
            "local" => match attr_at(0) {
                Some(l) => (self.local(scope.inst, l, scope, span.clone())?, 1),
                None => return invalid("`local` must be followed by a local value name"),
            },
            "count" => match (attr_at(0), &*scope.iteration) {
                (Some("index"), Iteration::Count(i)) => (Value::Number(*i as f64), 1),
                (Some("index"), _) => {
                    return invalid("count.index is only available in a block that sets `count`");
                }
                _ => return invalid("`count` has only the attribute `index`"),
            },
            "each" => match (attr_at(0), &*scope.iteration) {
                (Some("key"), Iteration::Each { key, .. }) => (Value::String(key.clone()), 1),
                (Some("value"), Iteration::Each { value, .. }) => (value.clone(), 1),
                (Some("key" | "value"), _) => {
                    return invalid(
                        "each.key and each.value are only available in a block that sets `for_each`",
                    );
                }
                _ => return invalid("`each` has only the attributes `key` and `value`"),
            },
            "path" => {
                let v = match attr_at(0) {
                    Some("module") => self.insts[scope.inst].path_module.clone(),
                    Some("root") => ".".to_owned(),
                    Some("cwd") => std::path::absolute(&self.root_dir)
                        .unwrap_or_else(|_| self.root_dir.clone())
                        .to_string_lossy()
                        .into_owned(),
                    _ => return invalid("`path` has only `module`, `root` and `cwd`"),
                };
                (Value::String(v), 1)
            }
            "terraform" => match attr_at(0) {
                Some("workspace") => (Value::String(self.workspace.clone()), 1),
                _ => return invalid("of `terraform`, only `terraform.workspace` is known"),
            },
            "module" => self.module_ref(ops, scope, span.clone())?,
            "data" => match (attr_at(0), attr_at(1)) {
                (Some(t), Some(n)) => {
                    self.resource_ref(Mode::Data, t, n, &ops[2..], scope, span.clone())?
                }
                _ => return invalid("`data` must be followed by a type and a name"),
            },
            "self" => {
                return Err(Failure::fatal(scope.problem(
                    span,
                    "`self` is only available in provisioners and conditions",
                    "",
                )));
            }
            rtype => match attr_at(0) {
                Some(n) => {
                    self.resource_ref(Mode::Managed, rtype, n, &ops[1..], scope, span.clone())?
                }
                None => {
                    return Err(Failure::fatal(scope.problem(
                        span,
                        format!("unknown name `{rtype}`"),
                        "",
                    )));
                }
            },
        };
        self.apply_ops(value, &ops[used..], scope, span)
    }

    /// Applies attribute, index and splat operators to a value.
    fn apply_ops(
        &mut self,
        mut value: Value,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Eval {
        let fail = |m: String| Failure::error(scope.problem(span.clone(), m, ""));
        let mut i = 0;
        while i < ops.len() {
            // Whatever an unknown value holds is unknown too.
            if super::unknown::is_whole_marker(&value) {
                return Ok(value);
            }
            if let Value::String(s) = &value
                && super::unknown::has_marker(s)
            {
                return self.unknowns.known(value);
            }
            match ops[i].value() {
                TraversalOperator::GetAttr(name) => {
                    value = get_attr(value, name.as_str()).map_err(fail)?;
                }
                TraversalOperator::Index(index) => {
                    let key = self.eval(index, scope);
                    let key = self.known(key)?;
                    value = index_value(value, &key).map_err(fail)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    value = index_value(value, &Value::Number(*n.value() as f64)).map_err(fail)?;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    // `.*` takes the attribute lookups that follow; `[*]` takes everything.
                    let full = matches!(ops[i].value(), TraversalOperator::FullSplat(_));
                    let mut end = i + 1;
                    while end < ops.len()
                        && (full || matches!(ops[end].value(), TraversalOperator::GetAttr(_)))
                    {
                        end += 1;
                    }
                    let rest = &ops[i + 1..end];
                    let items = match value {
                        Value::Null => Vec::new(),
                        Value::List(items) | Value::Set(items) => items,
                        single => vec![single],
                    };
                    let mut collect = Collect::default();
                    let mut out = Vec::new();
                    for item in items {
                        let r = self.apply_ops(item, rest, scope, span.clone());
                        if let Some(v) = collect.take(r) {
                            out.push(v);
                        }
                    }
                    value = collect.finish(Value::List(out))?;
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        Ok(value)
    }

    /// `var.NAME` in module instance `inst`.
    fn variable(
        &mut self,
        inst: usize,
        name: &str,
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Eval {
        let module = self.insts[inst].module.clone();
        let Some(decl) = module.variables.get(name) else {
            return Err(Failure::fatal(scope.problem(
                span,
                format!(
                    "there is no variable named `{name}` in {}",
                    module.display_dir
                ),
                format!("declare it: variable \"{name}\" {{}}"),
            )));
        };
        let cycle = || scope.problem(span, format!("variable `{name}` depends on itself"), "");
        self.memoised(inst, Memo::Vars, name, cycle, |ev| {
            ev.compute_variable(inst, name, decl)
        })
    }

    /// Assignment (root inputs or the module block), else default; then `nullable` and the
    /// type conversion.
    fn compute_variable(
        &mut self,
        inst: usize,
        name: &str,
        decl: &super::source::VariableDecl,
    ) -> Eval {
        let decl_problem = |message: String, hint: String| Problem {
            file: decl.file.display.clone(),
            line: decl.span.as_ref().map(|s| decl.file.line_of(s.start)),
            expression: format!("var.{name}"),
            message,
            hint,
        };
        // The type first: it decides how a -var string is read.
        let ty = match &decl.type_expr {
            None => None,
            Some(t) => {
                let file = t.file.clone();
                let mut literal = |e: &Expression| {
                    self.eval_literal(e, file.clone()).map_err(|f| {
                        f.problems
                            .first()
                            .map(|p| p.message.clone())
                            .unwrap_or_default()
                    })
                };
                match parse_type(&t.expr, &mut literal) {
                    Ok(ty) => Some(ty),
                    Err(m) => {
                        return Err(Failure::fatal(t.file.problem(
                            t.expr.span(),
                            format!("invalid type constraint: {m}"),
                            "",
                        )));
                    }
                }
            }
        };
        let call = self.insts[inst].call.clone();
        let assigned: Option<(Value, String)> = match &call {
            None => match self.root_vars.get(name).cloned() {
                None => None,
                Some(Assigned { raw, origin }) => {
                    let v = match raw {
                        Raw::Parsed(v) => v?,
                        Raw::Text(text) => {
                            self.parse_cli_value(name, &text, ty.as_ref(), &origin)?
                        }
                    };
                    Some((v, origin))
                }
            },
            Some(call) => {
                let parent_module = self.insts[call.parent].module.clone();
                let call_decl = &parent_module.calls[&call.name];
                match call_decl.inputs.get(name) {
                    None => None,
                    Some(input) => {
                        let v = self.eval_attr(call.parent, input, call.iteration.clone())?;
                        Some((v, format!("module \"{}\"", call.name)))
                    }
                }
            }
        };
        let default = match &decl.default {
            Some(d) => Some(self.eval_literal(&d.expr, d.file.clone())?),
            None => None,
        };
        let nullable = match &decl.nullable {
            Some(n) => self
                .eval_literal(&n.expr, n.file.clone())?
                .to_bool()
                .unwrap_or(true),
            None => true,
        };
        let (value, origin) = match (assigned, default) {
            // `nullable = false`: a null assignment means "use the default".
            (Some((Value::Null, _)), Some(d)) if !nullable => (d, "the default".to_owned()),
            (Some(a), _) => a,
            (None, Some(d)) => (d, "the default".to_owned()),
            (None, None) => {
                let (message, hint) = match &call {
                    None => (
                        format!(
                            "variable `{name}` has no value: no default, and no --var, --var-file, .tfvars file or TF_VAR_{name} sets it"
                        ),
                        format!("pass --var {name}=VALUE"),
                    ),
                    Some(c) => (
                        format!(
                            "module \"{}\" does not set its required variable `{name}`",
                            c.name
                        ),
                        format!("set `{name}` in the module block"),
                    ),
                };
                // A root variable nobody set is an input ecs-env lacks (Terraform would ask
                // for it); a module call without a required argument is a broken call.
                let problem = decl_problem(message, hint);
                return Err(if call.is_none() {
                    Failure::unknown(problem)
                } else {
                    Failure::fatal(problem)
                });
            }
        };
        if value == Value::Null && !nullable {
            return Err(Failure::fatal(decl_problem(
                format!(
                    "variable `{name}` is null (from {origin}) but declared `nullable = false`"
                ),
                format!("pass --var {name}=VALUE"),
            )));
        }
        match &ty {
            None => Ok(value),
            Some(ty) => convert(&value, ty).map_err(|m| {
                if let Err(unknown) = self.unknowns.known(value.clone()) {
                    return unknown;
                }
                Failure::fatal(decl_problem(
                    format!(
                        "the value of variable `{name}` (from {origin}) does not fit its type: {m}"
                    ),
                    String::new(),
                ))
            }),
        }
    }

    /// A `-var` or `TF_VAR_` string: taken literally for primitive and untyped variables,
    /// parsed as an HCL expression otherwise (Terraform's parsing modes).
    fn parse_cli_value(&mut self, name: &str, text: &str, ty: Option<&Ty>, origin: &str) -> Eval {
        if Ty::parses_literally(ty) {
            return Ok(Value::String(text.to_owned()));
        }
        let file = Arc::new(SourceFile::new(origin.to_owned(), text.to_owned()));
        // The value is not shown: a variable may hold a secret.
        let problem = |m: String| {
            Problem {
            file: origin.to_owned(),
            line: None,
            expression: name.to_owned(),
            message: format!("the value of `{name}` is not a valid HCL expression: {m}"),
            hint: "a variable of a list, map or object type takes HCL syntax, e.g. --var 'NAME=[\"a\",\"b\"]'".to_owned(),
        }
        };
        match hcl::edit::parser::parse_expr(text) {
            Ok(expr) => self.eval_literal(&expr, file).map_err(|f| {
                Failure::fatal(problem(
                    f.problems
                        .first()
                        .map(|p| p.message.clone())
                        .unwrap_or_default(),
                ))
            }),
            Err(e) => Err(Failure::fatal(problem(e.message().to_owned()))),
        }
    }

    /// `local.NAME` in module instance `inst`.
    fn local(
        &mut self,
        inst: usize,
        name: &str,
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Eval {
        let module = self.insts[inst].module.clone();
        let Some(attr) = module.locals.get(name) else {
            return Err(Failure::fatal(scope.problem(
                span,
                format!(
                    "there is no local value named `{name}` in {}",
                    module.display_dir
                ),
                "",
            )));
        };
        let cycle = || {
            scope.problem(
                span,
                format!("local.{name} depends on itself"),
                "break the cycle between the locals",
            )
        };
        self.memoised(inst, Memo::Locals, name, cycle, |ev| {
            ev.eval_attr(inst, attr, Iteration::None)
        })
    }

    /// The memoised value `name` of a module instance's `table`, computed on first use. A
    /// value met again while it is being computed is a reference cycle: `cycle` describes it.
    pub(super) fn memoised(
        &mut self,
        inst: usize,
        table: Memo,
        name: &str,
        cycle: impl FnOnce() -> Problem,
        compute: impl FnOnce(&mut Self) -> Eval,
    ) -> Eval {
        match self.insts[inst].memo(table).get(name) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => return Err(Failure::fatal(cycle())),
            None => {}
        }
        self.insts[inst]
            .memo(table)
            .insert(name.to_owned(), Slot::Busy);
        let result = compute(self);
        self.insts[inst]
            .memo(table)
            .insert(name.to_owned(), Slot::Done(result.clone()));
        result
    }

    /// `TYPE.NAME[KEY].ATTR` or `data.TYPE.NAME[KEY].ATTR`, from the state. `ops` starts
    /// after the name; returns the value and how many operators it used, counting the name.
    fn resource_ref(
        &mut self,
        mode: Mode,
        rtype: &str,
        name: &str,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
        span: Option<Range<usize>>,
    ) -> Result<(Value, usize), Failure> {
        let module_addr = self.insts[scope.inst].address.clone();
        let module = self.insts[scope.inst].module.clone();
        let declared = module
            .resources
            .get(&(mode, rtype.to_owned(), name.to_owned()));
        let local_addr = match mode {
            Mode::Managed => format!("{rtype}.{name}"),
            Mode::Data => format!("data.{rtype}.{name}"),
        };
        let full_addr = format!("{}{local_addr}", prefix(&module_addr));
        let names_used = if mode == Mode::Data { 2 } else { 1 };
        // What plan knows without state: rendered templates always; the region, the
        // account, data sources it reads and resources it can look up by name when the state
        // lacks them.
        // One instance of a `count` or `for_each` block the same way, by its own settings.
        // `None`: no state was given; `Some(None)`: the state lacks the resource.
        let in_state = self
            .state
            .as_ref()
            .map(|s| s.resource(&module_addr, mode, rtype, name).cloned());
        if super::data::is_builtin(mode, rtype)
            && let Some(decl) = declared.cloned()
            && (rtype == "template_file"
                || (self.live && super::data::is_read_live(mode, rtype))
                || !matches!(in_state, Some(Some(_))))
            && let Some((iteration, used)) = self.instance(&decl, &local_addr, ops, scope)?
        {
            let (v, n) = self.builtin_data(
                mode,
                rtype,
                name,
                &decl,
                iteration,
                &ops[used..],
                scope,
                span,
            )?;
            return Ok((v, n + used));
        }
        let resource = match in_state {
            Some(Some(resource)) => resource,
            absent => {
                let problem = match absent {
                    None => scope.problem(span.clone(), "not in Terraform state", STATE_HINT),
                    Some(_) => scope.problem(
                        span.clone(),
                        format!("not in Terraform state: the state has no {full_addr}"),
                        "apply the configuration first, or pass the state of the workspace that has it (terraform state pull > state.json)",
                    ),
                };
                let Some(decl) = declared.cloned() else {
                    return Err(undeclared(scope, span, &local_addr, &module.display_dir));
                };
                if mode == Mode::Data {
                    return Err(Failure::unknown(problem));
                }
                let planned = self.planned(&decl, &local_addr, ops, scope)?;
                return planned
                    .map(|(v, used)| (v, names_used + used))
                    .ok_or_else(|| Failure::unknown(problem));
            }
        };
        let expanded = resource.each != Each::Single
            || declared.is_some_and(|d| d.count.is_some() || d.for_each.is_some());
        let key = if expanded {
            self.index_key(ops.first(), scope)?
        } else {
            None
        };
        let used = usize::from(key.is_some());
        let attrs = match (&key, expanded) {
            (Some(k), _) => match resource.instance(Some(k)) {
                Some(a) => a.clone(),
                None => {
                    return Err(Failure::unknown(scope.problem(
                        span,
                        format!("not in Terraform state: the state has no {full_addr}{}", key_suffix(k)),
                        "apply the configuration first, or pass the state of the workspace that has it (terraform state pull > state.json)",
                    )));
                }
            },
            // The whole resource: a list or map of instances, for splats and for expressions.
            (None, true) => return Ok((resource.whole(), names_used + used)),
            (None, false) => resource.whole(),
        };
        // The attribute right after the instance is the resource's own: one missing from
        // the state is not known, which is not the same as a missing key in a map.
        if let Some(TraversalOperator::GetAttr(attr)) = ops.get(used).map(|o| o.value()) {
            let attr = attr.as_str();
            return match &attrs {
                Value::Object(map) if map.contains_key(attr) => {
                    Ok((map[attr].clone(), names_used + used + 1))
                }
                _ => Err(Failure::unknown(scope.problem(
                    span,
                    format!("attribute `{attr}` of {full_addr} is not in Terraform state"),
                    "refresh the state (terraform apply -refresh-only), then pull it again",
                ))),
            };
        }
        Ok((attrs, names_used + used))
    }

    /// The key an index operator names (`[KEY]`, or the legacy `.0`); `None` for any other
    /// operator, or none.
    pub(super) fn index_key(
        &mut self,
        op: Option<&Decorated<TraversalOperator>>,
        scope: &Scope,
    ) -> Result<Option<Value>, Failure> {
        match op.map(|o| o.value()) {
            Some(TraversalOperator::Index(e)) => self.eval(e, scope).map(Some),
            Some(TraversalOperator::LegacyIndex(n)) => Ok(Some(Value::Number(*n.value() as f64))),
            _ => Ok(None),
        }
    }

    /// The instance of a resource block that `ops` (starting after its name) names, with how
    /// many operators that took: the block itself without `count` or `for_each`, else the
    /// instance the index names. `None` for an expanded block referred to as a whole; an
    /// index the block does not make is an error.
    fn instance(
        &mut self,
        decl: &ResourceDecl,
        local_addr: &str,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
    ) -> Result<Option<(Iteration, usize)>, Failure> {
        let instances = self.expand(
            scope.inst,
            decl.count.as_ref(),
            decl.for_each.as_ref(),
            &Iteration::None,
        )?;
        let Some(instances) = instances else {
            return Ok(Some((Iteration::None, 0)));
        };
        let Some(key) = self.index_key(ops.first(), scope)? else {
            return Ok(None);
        };
        let key = self.unknowns.known(key)?;
        match instances.into_iter().find(|it| iteration_matches(it, &key)) {
            Some(iteration) => Ok(Some((iteration, 1))),
            None => Err(Failure::error(scope.problem(
                ops.first().and_then(|o| o.span()),
                format!("{local_addr} has no instance {}", key_suffix(&key)),
                "",
            ))),
        }
    }

    /// An argument of a managed resource the state lacks, as `terraform plan` shows it: the
    /// value the configuration sets (Terraform holds a provider to planning a configured
    /// argument as written), for the instance `ops` names. `None` for anything plan knows
    /// only after apply: an argument not set (or set to null), a computed attribute
    /// (`arn`, `id`), a nested block, or the whole resource. `ops` starts after the name;
    /// the value comes with how many operators it used.
    fn planned(
        &mut self,
        decl: &ResourceDecl,
        local_addr: &str,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
    ) -> Result<Option<(Value, usize)>, Failure> {
        let Some((iteration, used)) = self.instance(decl, local_addr, ops, scope)? else {
            return Ok(None);
        };
        let Some(TraversalOperator::GetAttr(arg)) = ops.get(used).map(|o| o.value()) else {
            return Ok(None);
        };
        let Some(attr) = decl.attrs.get(arg.as_str()).cloned() else {
            return Ok(None);
        };
        let memo_key = format!(
            "{local_addr}{}.{}",
            iteration.address_suffix(),
            arg.as_str()
        );
        let block = Scope::new(scope.inst, attr.file.clone(), iteration, ScopeKind::Config);
        let cycle = || {
            scope.problem(
                attr.expr.span(),
                format!("`{memo_key}` depends on itself"),
                "",
            )
        };
        let value = self.memoised(scope.inst, Memo::Planned, &memo_key, cycle, |ev| {
            ev.eval(&attr.expr, &block)
        })?;
        Ok((value != Value::Null).then_some((value, used + 1)))
    }

    /// A function call, with its problem located at the call.
    fn call(
        &mut self,
        call: &hcl::edit::expr::FuncCall,
        span: Option<Range<usize>>,
        scope: &Scope,
    ) -> Eval {
        let full = call
            .name
            .namespace
            .iter()
            .map(|n| format!("{}::", n.as_str()))
            .collect::<String>()
            + call.name.name.as_str();
        // `core::NAME` is the built-in NAME; a provider's function goes by its full name.
        let name = full.strip_prefix("core::").unwrap_or(&full);
        if !super::funcs::is_known(name) {
            return Err(Failure::unknown(scope.problem(
                span,
                format!("function `{full}` is not supported by ecs-env's Terraform evaluator"),
                super::RENDER_WITH_TERRAFORM,
            )));
        }
        if scope.kind == ScopeKind::Literal {
            return Err(Failure::fatal(scope.problem(
                span,
                "functions may not be called here: only literal values",
                "",
            )));
        }
        // Terraform renders only a template held elsewhere: a literal would already have been
        // rendered as a template, with the caller's variables.
        if name == "templatestring"
            && let Some(first) = call.args.iter().next()
            && !is_reference(first)
        {
            return Err(Failure::error(scope.problem(
                first.span(),
                "templatestring(): the template must be a reference to a string defined elsewhere (local.x, var.x, an attribute), not a literal or a function call",
                "",
            )));
        }
        // try() and can() see their arguments' failures; the others only values.
        if name == "try" || name == "can" {
            let args: Vec<&Expression> = call.args.iter().collect();
            if args.is_empty() || (name == "can" && args.len() != 1) {
                return Err(Failure::error(scope.problem(
                    span,
                    format!("{name}() takes at least one argument"),
                    "",
                )));
            }
            let mut last = None;
            for arg in args {
                match self.eval(arg, scope) {
                    Ok(v) if name == "try" => return Ok(v),
                    Ok(_) => return Ok(Value::Bool(true)),
                    Err(f) if f.fatal => return Err(f),
                    Err(f) => last = Some(f),
                }
            }
            if name == "can" {
                return Ok(Value::Bool(false));
            }
            let first = last
                .and_then(|f| f.problems.into_iter().next())
                .map(|p| p.message)
                .unwrap_or_default();
            return Err(Failure::error(scope.problem(
                span,
                format!("no argument of try() succeeded; the last failed with: {first}"),
                "",
            )));
        }
        let mut collect = Collect::default();
        let mut args = Vec::new();
        let count = call.args.len();
        for (i, arg) in call.args.iter().enumerate() {
            let r = self.eval(arg, scope);
            let Some(v) = collect.take(r) else { continue };
            if call.args.expand_final() && i + 1 == count {
                match v.elements() {
                    Some(items) => args.extend(items.iter().cloned()),
                    None => collect.add(Failure::error(scope.problem(
                        arg.span(),
                        "only a list can be expanded with `...`",
                        "",
                    ))),
                }
            } else {
                args.push(v);
            }
        }
        let args = collect.finish(args)?;
        let args = self.known_args(name, args)?;
        let markers = args.iter().any(|a| !self.unknowns.in_value(a).is_empty());
        let held = markers.then(|| args.clone());
        super::funcs::call(self, name, args).map_err(|e| {
            // A function that failed on an unknown argument failed for want of it.
            if let Some(Err(unknown)) = held.map(|a| self.unknowns.known(Value::List(a))) {
                return unknown;
            }
            let problems = if e.nested.is_empty() {
                vec![scope.problem(span, format!("{name}(): {}", e.message), e.hint)]
            } else {
                e.nested
            };
            Failure {
                problems,
                fatal: e.fatal,
                unknown: e.unknown,
            }
        })
    }

    /// Arguments as `name` may see them. Functions that only move values around (or that
    /// keep every marker intact in their result: `format` without a precision, `join`) may
    /// take unknown values; the others, and the arguments that decide what is moved (a key, an
    /// index, a separator, a path), must be known.
    fn known_args(&self, name: &str, args: Vec<Value>) -> Result<Vec<Value>, Failure> {
        // The arguments that decide what the result is (the function table says which);
        // `None`: all of them. `format` keeps markers intact only without a precision.
        let deciding: Option<&[usize]> = match name {
            "format" => match args.first() {
                Some(Value::String(f)) if !format_truncates(f) => Some(&[0]),
                _ => None,
            },
            // The length of a list or object and an object's keys do not depend on its
            // elements (a set's length does: unknown elements may turn out equal).
            "length" | "keys"
                if matches!(args.first(), Some(Value::List(_) | Value::Object(_))) =>
            {
                Some(&[])
            }
            _ => super::funcs::must_know(name),
        };
        match deciding {
            None => args
                .iter()
                .try_for_each(|a| self.unknowns.known(a.clone()).map(drop))?,
            Some(indexes) => indexes
                .iter()
                .filter_map(|i| args.get(*i))
                .try_for_each(|a| self.unknowns.known(a.clone()).map(drop))?,
        }
        Ok(args)
    }

    /// A collection to iterate: an unknown one is its problems.
    pub(super) fn whole(&self, v: Value) -> Eval {
        if matches!(&v, Value::String(s) if super::unknown::has_marker(s)) {
            self.unknowns.known(v)
        } else {
            Ok(v)
        }
    }

    /// Reads a file as `file()` does: relative to the directory Terraform runs in.
    pub(crate) fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root_dir.join(p)
        }
    }

    /// The display form of a path given to `file()`, for problems in a template file.
    pub(crate) fn display_path(&self, path: &str) -> String {
        if Path::new(path).is_absolute() {
            path.to_owned()
        } else {
            display_join(&self.insts[0].module.display_dir, path)
        }
    }
}

/// A reference to a resource that is neither declared nor in the state.
fn undeclared(scope: &Scope, span: Option<Range<usize>>, addr: &str, dir: &str) -> Failure {
    Failure::fatal(scope.problem(
        span,
        format!("reference to {addr}, which is not declared in {dir}"),
        "check the name; a resource must be declared in the same module that refers to it",
    ))
}

/// `module.a.` for a module address, nothing for the root.
pub(crate) fn prefix(address: &str) -> String {
    if address.is_empty() {
        String::new()
    } else {
        format!("{address}.")
    }
}

/// `[0]` or `["web"]` for an instance key value.
pub(crate) fn key_suffix(key: &Value) -> String {
    match key {
        Value::Number(n) => format!("[{}]", format_number(*n)),
        Value::String(s) => {
            let mut q = String::new();
            quote_json(s, &mut q);
            format!("[{q}]")
        }
        other => format!("[{}]", other.to_json().unwrap_or_default()),
    }
}

/// Whether an instance has this key (a number for count, a string for for_each).
pub(crate) fn iteration_matches(it: &Iteration, key: &Value) -> bool {
    match (it, key) {
        (Iteration::Count(i), k) => k.to_number() == Some(*i as f64),
        (Iteration::Each { key: k, .. }, Value::String(s)) => k == s,
        _ => false,
    }
}

/// Whether `expr` is a direct reference to a named value (`local.x`, `var.m["k"]`,
/// `data.a.b.c`), as `templatestring` requires of its template.
fn is_reference(expr: &Expression) -> bool {
    match expr {
        Expression::Variable(_) => true,
        Expression::Traversal(t) => {
            matches!(t.expr, Expression::Variable(_))
                && t.operators.iter().all(|op| {
                    matches!(
                        op.value(),
                        TraversalOperator::GetAttr(_)
                            | TraversalOperator::LegacyIndex(_)
                            | TraversalOperator::Index(
                                Expression::String(_) | Expression::Number(_)
                            )
                    )
                })
        }
        _ => false,
    }
}

/// `value.name` on an object.
fn get_attr(value: Value, name: &str) -> Result<Value, String> {
    match value {
        Value::Object(mut map) => map
            .remove(name)
            .ok_or_else(|| format!("this object has no attribute `{name}`")),
        Value::Null => Err(format!("cannot read attribute `{name}` of a null value")),
        Value::List(_) | Value::Set(_) => Err(format!(
            "cannot read attribute `{name}` of a list; use [*].{name} or a for expression"
        )),
        other => Err(format!(
            "cannot read attribute `{name}` of a {}",
            other.type_name()
        )),
    }
}

/// `value[key]` on a list or a map.
fn index_value(value: Value, key: &Value) -> Result<Value, String> {
    match value {
        Value::List(mut items) => {
            let i = key
                .to_number()
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .ok_or_else(|| "a list index must be a whole number".to_owned())?
                as usize;
            if i < items.len() {
                Ok(items.swap_remove(i))
            } else {
                Err(format!(
                    "index {i} is out of range for a list of {} elements",
                    items.len()
                ))
            }
        }
        Value::Object(mut map) => {
            let k = key
                .to_str()
                .ok_or_else(|| "a map key must be a string".to_owned())?;
            // The key is not quoted: it may be a value read from state. The expression, quoted
            // with the problem, shows it where it is written in the configuration.
            map.remove(&k)
                .ok_or_else(|| "this map has no such key".to_owned())
        }
        Value::Set(_) => Err("a set cannot be indexed; convert it with tolist()".to_owned()),
        Value::Null => Err("cannot index a null value".to_owned()),
        other => Err(format!("cannot index a {}", other.type_name())),
    }
}

/// A binary operator, with Terraform's automatic conversions of strings to numbers and bools.
/// `X == null` or `X != null` where `X` is partly unknown but certainly not null: a
/// collection, or a string with more than a marker in it (a template's result). Terraform
/// knows those too (a template result is refined as not null), so that
/// `{ for k, v in m : k => v if v != null }` keeps the known elements of `m`. `None` where
/// the comparison needs both values.
fn null_test(op: BinaryOperator, l: &Eval, r: &Eval) -> Option<bool> {
    let (Ok(l), Ok(r)) = (l, r) else {
        return None;
    };
    let other = match (l, r) {
        (Value::Null, other) | (other, Value::Null) => other,
        _ => return None,
    };
    if matches!(other, Value::Null) || super::unknown::is_whole_marker(other) {
        return None;
    }
    match op {
        BinaryOperator::Eq => Some(false),
        BinaryOperator::NotEq => Some(true),
        _ => None,
    }
}

fn binary(op: BinaryOperator, l: &Value, r: &Value) -> Result<Value, String> {
    use BinaryOperator as B;
    let nums = || match (l.to_number(), r.to_number()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!(
            "arithmetic and comparison need numbers, not a {} and a {}",
            l.type_name(),
            r.type_name()
        )),
    };
    let bools = || match (l.to_bool(), r.to_bool()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!(
            "&& and || need bools, not a {} and a {}",
            l.type_name(),
            r.type_name()
        )),
    };
    Ok(match op {
        B::Eq => Value::Bool(l == r),
        B::NotEq => Value::Bool(l != r),
        B::And => bools().map(|(a, b)| Value::Bool(a && b))?,
        B::Or => bools().map(|(a, b)| Value::Bool(a || b))?,
        B::Less => nums().map(|(a, b)| Value::Bool(a < b))?,
        B::LessEq => nums().map(|(a, b)| Value::Bool(a <= b))?,
        B::Greater => nums().map(|(a, b)| Value::Bool(a > b))?,
        B::GreaterEq => nums().map(|(a, b)| Value::Bool(a >= b))?,
        B::Plus => nums().map(|(a, b)| Value::Number(a + b))?,
        B::Minus => nums().map(|(a, b)| Value::Number(a - b))?,
        B::Mul => nums().map(|(a, b)| Value::Number(a * b))?,
        B::Div | B::Mod => {
            let (a, b) = nums()?;
            if b == 0.0 {
                return Err("division by zero".to_owned());
            }
            Value::Number(if op == B::Div { a / b } else { a % b })
        }
    })
}
