//! Collection functions: lists, sets and maps.

use std::collections::BTreeMap;

use super::{Func, MANY, Ret, err, list, number, object, s, string, strings, unify, whole};
use crate::terraform::value::{Value, make_set};

pub(super) const FUNCS: &[Func] = &[
    Func::pure("alltrue", 1, 1, alltrue),
    Func::pure("anytrue", 1, 1, anytrue),
    Func::pure("chunklist", 2, 2, chunklist),
    Func::pure("coalesce", 0, MANY, coalesce).passes_unknown_except(&[]),
    Func::pure("coalescelist", 0, MANY, coalescelist),
    Func::pure("compact", 1, 1, compact).passes_unknown_except(&[]),
    Func::pure("concat", 0, MANY, concat).passes_unknown_except(&[]),
    Func::pure("contains", 2, 2, contains),
    Func::pure("distinct", 1, 1, distinct),
    Func::pure("element", 2, 2, element).passes_unknown_except(&[1]),
    Func::pure("flatten", 1, 1, flatten).passes_unknown_except(&[]),
    Func::pure("index", 2, 2, index),
    Func::pure("keys", 1, 1, keys),
    Func::pure("length", 1, 1, length),
    Func::pure("lookup", 2, MANY, lookup).passes_unknown_except(&[1]),
    Func::pure("matchkeys", 3, 3, matchkeys),
    Func::pure("merge", 0, MANY, merge).passes_unknown_except(&[]),
    Func::pure("one", 1, 1, one),
    Func::pure("range", 1, 3, range),
    Func::pure("reverse", 1, 1, reverse),
    Func::pure("setintersection", 1, MANY, setintersection),
    Func::pure("setproduct", 0, MANY, setproduct),
    Func::pure("setsubtract", 2, 2, setsubtract),
    Func::pure("setunion", 1, MANY, setunion),
    Func::pure("slice", 3, 3, slice),
    Func::pure("sort", 1, 1, sort),
    Func::pure("transpose", 1, 1, transpose),
    Func::pure("values", 1, 1, values).passes_unknown_except(&[]),
    Func::pure("zipmap", 2, 2, zipmap),
];

/// A list or tuple argument: sets are refused (`concat`, `slice`, `reverse` of a set are
/// errors in Terraform... except where it converts them, which callers handle).
fn sequence<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], super::FnError> {
    match v {
        Value::List(items) => Ok(items),
        Value::Null => err(format!("{what} must not be null")),
        other => err(format!(
            "{what} must be a list or tuple, not a {}",
            other.type_name()
        )),
    }
}

/// A list of bools, each converted (`"true"` is true); a null element is false.
fn bools(v: &Value) -> Result<Vec<bool>, super::FnError> {
    list(v, "the argument")?
        .iter()
        .map(|item| match item {
            Value::Null => Ok(false),
            item => item
                .to_bool()
                .ok_or(())
                .or_else(|_| err("each element must be a bool")),
        })
        .collect()
}

fn alltrue(a: &[Value]) -> Ret {
    Ok(Value::Bool(bools(&a[0])?.iter().all(|b| *b)))
}

fn anytrue(a: &[Value]) -> Ret {
    Ok(Value::Bool(bools(&a[0])?.iter().any(|b| *b)))
}

fn chunklist(a: &[Value]) -> Ret {
    let items = list(&a[0], "the list")?;
    let size = whole(&a[1], "the size")?;
    if size < 0 {
        return err("the size argument must be positive");
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(
        items
            .chunks(size as usize)
            .map(|c| Value::List(c.to_vec()))
            .collect(),
    ))
}

fn coalesce(a: &[Value]) -> Ret {
    if a.is_empty() {
        return err("all arguments must have the same type");
    }
    for v in unify(a.to_vec()) {
        match &v {
            Value::Null => {}
            Value::String(t) if t.is_empty() => {}
            _ => return Ok(v),
        }
    }
    err("no non-null, non-empty-string arguments")
}

fn coalescelist(a: &[Value]) -> Ret {
    if a.is_empty() {
        return err("at least one argument is required");
    }
    for v in a {
        if !sequence(v, "each argument")?.is_empty() {
            return Ok(v.clone());
        }
    }
    err("no non-null arguments")
}

fn compact(a: &[Value]) -> Ret {
    let mut out = Vec::new();
    for v in list(&a[0], "the argument")? {
        match v {
            Value::Null => {}
            v => {
                let text = string(v, "each element")?;
                if !text.is_empty() {
                    out.push(s(text));
                }
            }
        }
    }
    Ok(Value::List(out))
}

fn concat(a: &[Value]) -> Ret {
    if a.is_empty() {
        return err("at least one argument is required");
    }
    let mut out = Vec::new();
    for l in a {
        out.extend(sequence(l, "each argument")?.iter().cloned());
    }
    Ok(Value::List(out))
}

fn contains(a: &[Value]) -> Ret {
    let items = match &a[0] {
        Value::List(items) | Value::Set(items) => items,
        _ => return err("argument must be list, tuple, or set"),
    };
    if a[1] == Value::Null {
        return err("the value must not be null");
    }
    Ok(Value::Bool(items.contains(&a[1])))
}

fn distinct(a: &[Value]) -> Ret {
    let mut out: Vec<Value> = Vec::new();
    for v in unify(list(&a[0], "the argument")?.to_vec()) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::List(out))
}

fn element(a: &[Value]) -> Ret {
    let items = sequence(&a[0], "the list")?;
    let i = whole(&a[1], "the index")?;
    if items.is_empty() {
        return err("cannot use element function with an empty list");
    }
    if i < 0 {
        return err("the index must not be negative");
    }
    Ok(items[(i as usize) % items.len()].clone())
}

fn flatten(a: &[Value]) -> Ret {
    fn flat(items: &[Value], out: &mut Vec<Value>) {
        for v in items {
            match v.elements() {
                Some(inner) => flat(inner, out),
                None => out.push(v.clone()),
            }
        }
    }
    let Some(items) = a[0].elements() else {
        return err("can only flatten lists, sets and tuples");
    };
    let mut out = Vec::new();
    flat(items, &mut out);
    Ok(Value::List(out))
}

fn index(a: &[Value]) -> Ret {
    match sequence(&a[0], "the list")?.iter().position(|v| *v == a[1]) {
        Some(i) => Ok(Value::Number(i as f64)),
        None => err("item not found"),
    }
}

fn keys(a: &[Value]) -> Ret {
    let map = object(&a[0], "the argument")?;
    Ok(Value::List(map.keys().map(|k| s(k.clone())).collect()))
}

fn values(a: &[Value]) -> Ret {
    let map = object(&a[0], "the argument")?;
    Ok(Value::List(map.values().cloned().collect()))
}

fn length(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => err("the argument must not be null"),
        Value::Object(map) => Ok(Value::Number(map.len() as f64)),
        v => match super::strings::count(v) {
            Some(n) => Ok(Value::Number(n as f64)),
            None => err("argument must be a string, a collection type, or a structural type"),
        },
    }
}

fn lookup(a: &[Value]) -> Ret {
    if a.len() > 3 {
        return err(format!(
            "lookup() takes two or three arguments, got {}",
            a.len()
        ));
    }
    let map = match &a[0] {
        Value::Object(map) => map,
        _ => return err("lookup() requires a map as the first argument"),
    };
    let key = string(&a[1], "the key")?;
    match (map.get(&key), a.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => err("the map has no such key, and no default was given"),
    }
}

fn matchkeys(a: &[Value]) -> Ret {
    let values = list(&a[0], "the values")?;
    // The keys and the search set are converted to one type together.
    let given = list(&a[1], "the keys")?;
    let mut keys = given.to_vec();
    keys.extend(list(&a[2], "the search set")?.iter().cloned());
    let mut keys = unify(keys);
    let search = keys.split_off(given.len());
    if values.len() != keys.len() {
        return err("length of keys and values should be equal");
    }
    Ok(Value::List(
        values
            .iter()
            .zip(&keys)
            .filter(|(_, k)| search.contains(k))
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

fn merge(a: &[Value]) -> Ret {
    let mut out = BTreeMap::new();
    for m in a {
        match m {
            Value::Null => {}
            Value::Object(map) => out.extend(map.clone()),
            other => {
                return err(format!(
                    "arguments must be maps or objects, got \"{}\"",
                    other.type_name()
                ));
            }
        }
    }
    Ok(Value::Object(out))
}

fn one(a: &[Value]) -> Ret {
    match a[0].elements() {
        Some([]) => Ok(Value::Null),
        Some([v]) => Ok(v.clone()),
        _ if a[0] == Value::Null => err("the argument must not be null"),
        _ => err("must be a list, set, or tuple value with either zero or one elements"),
    }
}

fn range(a: &[Value]) -> Ret {
    let n: Vec<f64> = a
        .iter()
        .map(|v| number(v, "each argument"))
        .collect::<Result<_, _>>()?;
    let (start, end, step) = match n.as_slice() {
        [end] => (0.0, *end, if *end < 0.0 { -1.0 } else { 1.0 }),
        [start, end] => (*start, *end, if end < start { -1.0 } else { 1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return err("takes one to three arguments"),
    };
    if step == 0.0 {
        return err("step must not be zero");
    }
    if step < 0.0 && start < end {
        return err("end must be less than start when step is negative");
    }
    if step > 0.0 && start > end {
        return err("end must be greater than start when step is positive");
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(Value::Number(x));
        x += step;
        if out.len() > 1024 {
            return err(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            );
        }
    }
    Ok(Value::List(out))
}

fn reverse(a: &[Value]) -> Ret {
    match &a[0] {
        Value::List(items) | Value::Set(items) => {
            Ok(Value::List(items.iter().rev().cloned().collect()))
        }
        other => err(format!(
            "can only reverse list or tuple values, not {}",
            other.type_name()
        )),
    }
}

/// The elements of each set argument, converted to one type together.
fn sets(a: &[Value]) -> Result<Vec<Vec<Value>>, super::FnError> {
    let mut all = Vec::new();
    let mut lens = Vec::new();
    for v in a {
        let items = list(v, "each argument")?;
        lens.push(items.len());
        all.extend(items.iter().cloned());
    }
    let mut all = unify(all).into_iter();
    Ok(lens
        .into_iter()
        .map(|n| all.by_ref().take(n).collect())
        .collect())
}

fn setunion(a: &[Value]) -> Ret {
    Ok(make_set(sets(a)?.concat()))
}

fn setintersection(a: &[Value]) -> Ret {
    let sets = sets(a)?;
    let mut out = sets[0].clone();
    for other in &sets[1..] {
        out.retain(|v| other.contains(v));
    }
    Ok(make_set(out))
}

fn setsubtract(a: &[Value]) -> Ret {
    let sets = sets(a)?;
    let mut out = sets[0].clone();
    out.retain(|v| !sets[1].contains(v));
    Ok(make_set(out))
}

fn setproduct(a: &[Value]) -> Ret {
    if a.len() < 2 {
        return err("at least two arguments are required");
    }
    let all_lists = a.iter().all(|v| matches!(v, Value::List(_)));
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for v in a {
        let items: Vec<Value> = match v {
            Value::Set(_) | Value::List(_) => list(v, "each argument")?.to_vec(),
            _ => return err("a set or a list is required"),
        };
        rows = rows
            .into_iter()
            .flat_map(|row| {
                items.iter().map(move |item| {
                    let mut r = row.clone();
                    r.push(item.clone());
                    r
                })
            })
            .collect();
    }
    let rows: Vec<Value> = rows.into_iter().map(Value::List).collect();
    if all_lists {
        Ok(Value::List(rows))
    } else {
        Ok(make_set(rows))
    }
}

fn slice(a: &[Value]) -> Ret {
    let items = match &a[0] {
        Value::List(items) => items,
        _ => return err("must be a list or tuple value"),
    };
    let start = whole(&a[1], "the start index")?;
    let end = whole(&a[2], "the end index")?;
    if start < 0 {
        return err("start index must not be less than zero");
    }
    if end as usize > items.len() {
        return err("end index must not be greater than the length of the list");
    }
    if start > end {
        return err("start index must not be greater than end index");
    }
    Ok(Value::List(items[start as usize..end as usize].to_vec()))
}

fn sort(a: &[Value]) -> Ret {
    let mut items = Vec::new();
    for (i, v) in list(&a[0], "the argument")?.iter().enumerate() {
        if *v == Value::Null {
            return err(format!(
                "given list element {i} is null; a null string cannot be sorted"
            ));
        }
        items.push(string(v, "each element")?);
    }
    items.sort();
    Ok(Value::List(items.into_iter().map(s).collect()))
}

fn transpose(a: &[Value]) -> Ret {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in object(&a[0], "the argument")? {
        for item in strings(v, "each value")? {
            out.entry(item).or_default().push(s(k.clone()));
        }
    }
    Ok(Value::Object(
        out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
    ))
}

fn zipmap(a: &[Value]) -> Ret {
    let keys = strings(&a[0], "the keys")?;
    let values = match &a[1] {
        Value::Null => return err("the values must not be null"),
        v => list(v, "the values")?,
    };
    if keys.len() != values.len() {
        return err(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        ));
    }
    Ok(Value::Object(
        keys.into_iter().zip(values.iter().cloned()).collect(),
    ))
}
