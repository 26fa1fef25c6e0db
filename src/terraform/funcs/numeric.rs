//! Numeric functions. Numbers are `f64` (see `value`): a result that is not a number (the
//! logarithm of a negative number) is an error, as it is in Terraform, and an infinite one
//! is a value that `jsonencode` then refuses, as Terraform's does.

use super::{Func, MANY, Ret, err, list, number, whole};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::pure("abs", 1, 1, abs),
    Func::pure("ceil", 1, 1, ceil),
    Func::pure("floor", 1, 1, floor),
    Func::pure("log", 2, 2, log),
    Func::pure("max", 0, MANY, max),
    Func::pure("min", 0, MANY, min),
    Func::pure("parseint", 2, 2, parseint),
    Func::pure("pow", 2, 2, pow),
    Func::pure("signum", 1, 1, signum),
    Func::pure("sum", 1, 1, sum),
];

/// A numeric result: not-a-number is an error.
fn num(n: f64) -> Ret {
    if n.is_nan() {
        return err("the result is not a number");
    }
    Ok(Value::Number(n))
}

fn abs(a: &[Value]) -> Ret {
    num(number(&a[0], "the argument")?.abs())
}

fn ceil(a: &[Value]) -> Ret {
    num(number(&a[0], "the argument")?.ceil())
}

fn floor(a: &[Value]) -> Ret {
    num(number(&a[0], "the argument")?.floor())
}

fn log(a: &[Value]) -> Ret {
    let n = number(&a[0], "the number")?;
    let base = number(&a[1], "the base")?;
    num(n.ln() / base.ln())
}

fn pow(a: &[Value]) -> Ret {
    num(number(&a[0], "the number")?.powf(number(&a[1], "the power")?))
}

fn signum(a: &[Value]) -> Ret {
    let n = whole(&a[0], "the argument")?;
    num(n.signum() as f64)
}

/// The numbers of `max`/`min`: at least one.
fn numbers(a: &[Value]) -> Result<Vec<f64>, super::FnError> {
    if a.is_empty() {
        return err("must pass at least one number");
    }
    a.iter().map(|v| number(v, "each argument")).collect()
}

fn max(a: &[Value]) -> Ret {
    num(numbers(a)?.into_iter().fold(f64::NEG_INFINITY, f64::max))
}

fn min(a: &[Value]) -> Ret {
    num(numbers(a)?.into_iter().fold(f64::INFINITY, f64::min))
}

fn sum(a: &[Value]) -> Ret {
    let items = list(&a[0], "the argument")?;
    if items.is_empty() {
        return err("cannot sum an empty list");
    }
    let mut total = 0.0;
    for v in items {
        total += number(v, "each element")?;
    }
    num(total)
}

/// `parseint`: a whole number written in base 2 to 62 (digits, then `a`-`z`, then, above
/// base 36, `A`-`Z`), with an optional sign, as Go's `big.Int.SetString` reads it.
fn parseint(a: &[Value]) -> Ret {
    let text = match &a[0] {
        Value::String(t) => t.clone(),
        Value::Null => return err("the number must not be null"),
        other => {
            return err(format!(
                "first argument must be a string, not {}",
                other.type_name()
            ));
        }
    };
    let base = whole(&a[1], "the base")?;
    if !(2..=62).contains(&base) {
        return err("base must be a whole number between 2 and 62 inclusive");
    }
    let cannot = || err(format!("cannot parse the string as a base {base} integer"));
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    if digits.is_empty() {
        return cannot();
    }
    let mut n = 0f64;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => return cannot(),
        };
        if d >= base {
            return cannot();
        }
        n = n * base as f64 + d as f64;
    }
    num(if negative { -n } else { n })
}
