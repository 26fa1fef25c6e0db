//! String functions: case, trimming, searching, `replace` and the regular-expression
//! functions, `split`/`join`, `format`/`formatlist`, and the ones that count in grapheme
//! clusters (`length` of a string, `substr`, `strrev`).

use super::{Func, MANY, Ret, err, list, number, s, string, strings, whole};
use crate::terraform::value::{Value, format_number, quote_json};

pub(super) const FUNCS: &[Func] = &[
    Func::pure("chomp", 1, 1, chomp),
    Func::pure("endswith", 2, 2, endswith),
    Func::pure("format", 1, MANY, format),
    Func::pure("formatlist", 1, MANY, formatlist),
    Func::pure("indent", 2, 2, indent),
    Func::pure("join", 1, MANY, join).passes_unknown_except(&[0]),
    Func::pure("lower", 1, 1, lower),
    Func::pure("regex", 2, 2, regex),
    Func::pure("regexall", 2, 2, regexall),
    Func::pure("replace", 3, 3, replace),
    Func::pure("split", 2, 2, split),
    Func::pure("startswith", 2, 2, startswith),
    Func::pure("strcontains", 2, 2, strcontains),
    Func::pure("strrev", 1, 1, strrev),
    Func::pure("substr", 3, 3, substr),
    Func::pure("title", 1, 1, title),
    Func::pure("trim", 2, 2, trim),
    Func::pure("trimprefix", 2, 2, trimprefix),
    Func::pure("trimspace", 1, 1, trimspace),
    Func::pure("trimsuffix", 2, 2, trimsuffix),
    Func::pure("upper", 1, 1, upper),
];

/// The one argument, as a string.
fn one(a: &[Value]) -> Result<String, super::FnError> {
    string(&a[0], "the argument")
}

/// The two arguments, as strings.
fn two(a: &[Value]) -> Result<(String, String), super::FnError> {
    Ok((
        string(&a[0], "the string")?,
        string(&a[1], "the second argument")?,
    ))
}

fn chomp(a: &[Value]) -> Ret {
    Ok(s(one(a)?.trim_end_matches(['\n', '\r'])))
}

fn trimspace(a: &[Value]) -> Ret {
    Ok(s(one(a)?.trim()))
}

/// Go's `unicode.ToUpper`: the simple (one-character) mapping.
fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        // A full mapping of several characters (ß → SS): Go keeps the character, except
        // where Unicode's simple mapping differs (the Greek letters with iota subscript).
        _ => match c {
            '\u{1F80}'..='\u{1FAF}' | '\u{1FB3}' | '\u{1FC3}' | '\u{1FF3}' => {
                titlecase_iota(c).unwrap_or(c)
            }
            _ => c,
        },
    }
}

/// The simple uppercase of a Greek letter with iota subscript (U+1F80..U+1FF3).
fn titlecase_iota(c: char) -> Option<char> {
    let n = c as u32;
    let mapped = match n {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => n + 8,
        0x1FB3 | 0x1FC3 | 0x1FF3 => n + 9,
        _ => n,
    };
    char::from_u32(mapped)
}

/// Go's `unicode.ToLower`: the simple mapping.
fn lower_char(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn upper(a: &[Value]) -> Ret {
    Ok(s(one(a)?.chars().map(upper_char).collect::<String>()))
}

fn lower(a: &[Value]) -> Ret {
    Ok(s(one(a)?.chars().map(lower_char).collect::<String>()))
}

/// Go's `strings.Title`: the first letter of each word upper-cased, where words are
/// separated by ASCII punctuation and spaces.
fn title(a: &[Value]) -> Ret {
    fn separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        !c.is_alphanumeric() && c.is_whitespace()
    }
    let mut prev = ' ';
    let out: String = one(a)?
        .chars()
        .map(|c| {
            let out = if separator(prev) {
                match c {
                    '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
                    '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
                    '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
                    '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
                    c => upper_char(c),
                }
            } else {
                c
            };
            prev = c;
            out
        })
        .collect();
    Ok(s(out))
}

fn trim(a: &[Value]) -> Ret {
    let (text, cutset) = two(a)?;
    Ok(s(text.trim_matches(|c| cutset.contains(c))))
}

fn trimprefix(a: &[Value]) -> Ret {
    let (text, prefix) = two(a)?;
    Ok(s(text.strip_prefix(prefix.as_str()).unwrap_or(&text)))
}

fn trimsuffix(a: &[Value]) -> Ret {
    let (text, suffix) = two(a)?;
    Ok(s(text.strip_suffix(suffix.as_str()).unwrap_or(&text)))
}

fn startswith(a: &[Value]) -> Ret {
    let (text, prefix) = two(a)?;
    Ok(Value::Bool(text.starts_with(prefix.as_str())))
}

fn endswith(a: &[Value]) -> Ret {
    let (text, suffix) = two(a)?;
    Ok(Value::Bool(text.ends_with(suffix.as_str())))
}

fn strcontains(a: &[Value]) -> Ret {
    let (text, sub) = two(a)?;
    Ok(Value::Bool(text.contains(sub.as_str())))
}

/// Whether `c` extends the grapheme cluster before it: combining marks, joiners,
/// variation selectors, emoji modifiers and tags. An approximation of Unicode's rules
/// (UAX #29) that covers accents, emoji sequences and flags.
fn extends(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
        | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF | 0x200C | 0x200D | 0x20D0..=0x20FF | 0xFE00..=0xFE0F
        | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F | 0xE0100..=0xE01EF)
}

/// The string's grapheme clusters, as Terraform counts them (approximated: see `extends`).
pub(super) fn graphemes(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut regional = 0;
    for (i, c) in text.char_indices() {
        let is_regional = ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
        let joins = match prev {
            None => false,
            Some('\r') => c == '\n',
            Some('\u{200D}') => true,
            Some(_) if is_regional => regional % 2 == 1,
            Some(p) => extends(c) && p != '\n' && p != '\r',
        };
        if !joins && i > 0 {
            out.push(&text[start..i]);
            start = i;
        }
        regional = if is_regional { regional + 1 } else { 0 };
        prev = Some(c);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn strrev(a: &[Value]) -> Ret {
    let text = one(a)?;
    Ok(s(graphemes(&text).into_iter().rev().collect::<String>()))
}

fn substr(a: &[Value]) -> Ret {
    let text = string(&a[0], "the string")?;
    let clusters = graphemes(&text);
    let len = clusters.len() as i64;
    let mut offset = whole(&a[1], "the offset")?;
    let length = whole(&a[2], "the length")?;
    if offset < 0 {
        offset = (offset + len).max(0);
    }
    let start = offset.clamp(0, len) as usize;
    let end = if length < 0 {
        len
    } else {
        offset.saturating_add(length).clamp(0, len)
    } as usize;
    Ok(s(clusters[start..end.max(start)].concat()))
}

fn indent(a: &[Value]) -> Ret {
    let n = whole(&a[0], "the number of spaces")?;
    if n < 0 {
        return err("the number of spaces must not be negative");
    }
    let text = string(&a[1], "the string")?;
    Ok(s(
        text.replace('\n', &format!("\n{}", " ".repeat(n as usize)))
    ))
}

fn split(a: &[Value]) -> Ret {
    let sep = string(&a[0], "the separator")?;
    let text = string(&a[1], "the string")?;
    let parts: Vec<Value> = if sep.is_empty() {
        text.chars().map(|c| s(c.to_string())).collect()
    } else {
        text.split(sep.as_str()).map(s).collect()
    };
    Ok(Value::List(parts))
}

fn join(a: &[Value]) -> Ret {
    let sep = string(&a[0], "the separator")?;
    if a.len() < 2 {
        return err("at least one list is required");
    }
    let mut parts = Vec::new();
    for l in &a[1..] {
        parts.extend(strings(l, "each list")?);
    }
    Ok(s(parts.join(&sep)))
}

/// A `/.../` pattern's regular expression, or `None` for a plain substring.
fn slashed(pattern: &str) -> Option<&str> {
    (pattern.len() >= 2 && pattern.starts_with('/') && pattern.ends_with('/'))
        .then(|| &pattern[1..pattern.len() - 1])
}

/// Compiles a pattern with Go's RE2 syntax. Unicode classes (`\p{...}`) and
/// case-insensitive non-ASCII matching are beyond the engine: not supported, not guessed.
fn compile(pattern: &str) -> Result<regex_lite::Regex, super::FnError> {
    let unicode_class = pattern.contains("\\p") || pattern.contains("\\P");
    let folded = pattern.contains("(?i") && !pattern.is_ascii();
    if unicode_class || folded {
        return Err(super::FnError {
            message: "Unicode classes (\\p{...}) and case-insensitive non-ASCII patterns are not supported".to_owned(),
            hint: "render the configuration with Terraform (terraform show -json) instead".to_owned(),
            fatal: true,
            unknown: false,
            nested: Vec::new(),
        });
    }
    regex_lite::Regex::new(pattern).or_else(|e| err(format!("invalid regexp pattern: {e}")))
}

fn replace(a: &[Value]) -> Ret {
    let text = string(&a[0], "the string")?;
    let from = string(&a[1], "the substring")?;
    let to = string(&a[2], "the replacement")?;
    if let Some(pattern) = slashed(&from) {
        let re = compile(pattern)?;
        return Ok(s(re.replace_all(&text, to.as_str()).into_owned()));
    }
    if from.is_empty() {
        // Go's strings.Replace: the replacement before every character and at the end.
        let mut out = to.clone();
        for c in text.chars() {
            out.push(c);
            out.push_str(&to);
        }
        return Ok(s(out));
    }
    Ok(s(text.replace(&from, &to)))
}

/// What a match of `re` yields: the match itself without capture groups, a list of the
/// groups if none is named, an object if all are.
fn captures(re: &regex_lite::Regex, caps: &regex_lite::Captures<'_>) -> Value {
    let group = |i: usize| caps.get(i).map_or(Value::Null, |m| s(m.as_str()));
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        group(0)
    } else if names.iter().all(Option::is_some) {
        Value::Object(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.unwrap_or_default().to_owned(), group(i + 1)))
                .collect(),
        )
    } else {
        Value::List((1..=names.len()).map(group).collect())
    }
}

/// The compiled pattern and the string of `regex`/`regexall`.
fn pattern(a: &[Value]) -> Result<(regex_lite::Regex, String), super::FnError> {
    let re = compile(&string(&a[0], "the pattern")?)?;
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.iter().any(Option::is_some) && names.iter().any(Option::is_none) {
        return err("invalid regexp pattern: cannot mix both named and unnamed capture groups");
    }
    Ok((re, string(&a[1], "the string")?))
}

fn regex(a: &[Value]) -> Ret {
    let (re, text) = pattern(a)?;
    match re.captures(&text) {
        Some(caps) => Ok(captures(&re, &caps)),
        None => err("pattern did not match any part of the given string"),
    }
}

fn regexall(a: &[Value]) -> Ret {
    let (re, text) = pattern(a)?;
    Ok(Value::List(
        re.captures_iter(&text).map(|c| captures(&re, &c)).collect(),
    ))
}

fn format(a: &[Value]) -> Ret {
    let spec = string(&a[0], "the format")?;
    if a[1..].contains(&Value::Null) {
        // Terraform leaves the result unknown (`formatlist` prints `null` for `%v`).
        return Err(super::FnError {
            message: "Terraform leaves format() with a null argument unknown".to_owned(),
            hint: String::new(),
            fatal: true,
            unknown: true,
            nested: Vec::new(),
        });
    }
    format_str(&spec, &a[1..]).map(s)
}

/// `formatlist`: `format` once per element of the list arguments (all of one length); the
/// other arguments are repeated.
fn formatlist(a: &[Value]) -> Ret {
    let spec = string(&a[0], "the format")?;
    let mut len: Option<usize> = None;
    for (i, arg) in a[1..].iter().enumerate() {
        if let Some(items) = arg.elements() {
            match len {
                Some(n) if n != items.len() => {
                    return err(format!(
                        "argument {} has length {}, which is inconsistent with the earlier lists of length {n}",
                        i + 1,
                        items.len()
                    ));
                }
                _ => len = Some(items.len()),
            }
        }
    }
    let len = len.unwrap_or(1);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let row: Vec<Value> = a[1..]
            .iter()
            .map(|arg| match arg.elements() {
                Some(items) => items[i].clone(),
                None => arg.clone(),
            })
            .collect();
        out.push(s(format_str(&spec, &row)?));
    }
    Ok(Value::List(out))
}

/// One `%` verb's flags, width and precision.
#[derive(Default)]
struct Verb {
    minus: bool,
    plus: bool,
    space: bool,
    sharp: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// `format()` as cty implements it over Go's `fmt`: the verbs `%v %#v %t %b %d %o %x %X
/// %e %E %f %g %G %s %q %%`, the flags `+ - # 0` and space, width, precision, and `%[N]`
/// argument indexes. Every argument must be used.
pub(super) fn format_str(spec: &str, args: &[Value]) -> Result<String, super::FnError> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next_arg = 0usize;
    let mut used = vec![false; args.len()];
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut v = Verb::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => v.minus = true,
                '+' => v.plus = true,
                ' ' => v.space = true,
                '#' => v.sharp = true,
                '0' => v.zero = true,
                _ => break,
            }
            chars.next();
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
            match digits.parse::<usize>() {
                Ok(n) if n >= 1 => next_arg = n - 1,
                _ => return err(format!("invalid argument index [{digits}]")),
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        v.width = width.parse().unwrap_or(0);
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            v.precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return err("the format ends in the middle of a verb");
        };
        let Some(arg) = args.get(next_arg) else {
            return err(format!(
                "not enough arguments for the format (verb %{verb})"
            ));
        };
        used[next_arg] = true;
        next_arg += 1;
        let text = format_verb(verb, &v, arg)?;
        if verb == 't' {
            // cty writes a bool without padding.
            out.push_str(&text);
        } else {
            pad(&mut out, &text, &v, verb != 't');
        }
    }
    if let Some(unused) = used.iter().position(|u| !u) {
        return err(format!(
            "too many arguments; no verb refers to argument {}",
            unused + 1
        ));
    }
    Ok(out)
}

/// Pads `text` to the verb's width: spaces left or right, or zeros after the sign.
fn pad(out: &mut String, text: &str, v: &Verb, zeros: bool) {
    let fill = v.width.saturating_sub(text.chars().count());
    if v.minus {
        out.push_str(text);
        out.push_str(&" ".repeat(fill));
    } else if v.zero && zeros {
        let (sign, digits) = match text.strip_prefix(['-', '+', ' ']) {
            Some(rest) if text.len() > rest.len() => (&text[..1], rest),
            _ => ("", text),
        };
        out.push_str(sign);
        out.push_str(&"0".repeat(fill));
        out.push_str(digits);
    } else {
        out.push_str(&" ".repeat(fill));
        out.push_str(text);
    }
}

/// One argument formatted by one verb, before padding.
fn format_verb(verb: char, v: &Verb, arg: &Value) -> Result<String, super::FnError> {
    if *arg == Value::Null {
        return match verb {
            'v' => Ok("null".to_owned()),
            _ => err(format!("%{verb} cannot format null")),
        };
    }
    let truncate = |t: String| match v.precision {
        Some(p) => t.chars().take(p).collect(),
        None => t,
    };
    let text = match verb {
        's' => truncate(string(arg, "the argument for %s")?),
        'q' => {
            let mut q = String::new();
            quote_json(&string(arg, "the argument for %q")?, &mut q);
            truncate(q)
        }
        'v' if v.sharp => arg.to_json().or_else(err)?,
        'v' => match arg {
            Value::String(t) => t.clone(),
            Value::Number(n) => format_number(*n),
            Value::List(_) | Value::Set(_) | Value::Object(_) => arg.to_json().or_else(err)?,
            other => other.to_str().unwrap_or_default(),
        },
        't' => match arg.to_bool() {
            Some(b) => b.to_string(),
            None => return err("%t needs a bool"),
        },
        'd' | 'b' | 'o' | 'x' | 'X' => {
            let n = number(arg, &format!("the argument for %{verb}"))?;
            if n.fract() != 0.0 {
                return err(format!("%{verb} needs a whole number"));
            }
            let neg = n < 0.0;
            let digits = integer_digits(n.abs(), verb);
            let prefix = match (v.sharp, verb) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, 'o') => "0",
                (true, 'b') => "0b",
                _ => "",
            };
            format!("{}{prefix}{digits}", sign(neg, v))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let n = number(arg, &format!("the argument for %{verb}"))?;
            let body = match verb {
                'e' | 'E' => go_exp(n.abs(), v.precision.unwrap_or(6)),
                'f' | 'F' => format!("{:.*}", v.precision.unwrap_or(6), n.abs()),
                _ => go_general(n.abs(), v.precision),
            };
            let body = if verb.is_ascii_uppercase() {
                body.to_uppercase()
            } else {
                body
            };
            format!("{}{body}", sign(n.is_sign_negative() && n != 0.0, v))
        }
        other => return err(format!("unrecognized format verb %{other}")),
    };
    Ok(text)
}

/// The sign Go prints before a number: `-`, or `+`/space with those flags.
fn sign(negative: bool, v: &Verb) -> &'static str {
    if negative {
        "-"
    } else if v.plus {
        "+"
    } else if v.space {
        " "
    } else {
        ""
    }
}

/// A non-negative whole number in base 10, 2, 8 or 16.
fn integer_digits(n: f64, verb: char) -> String {
    let base = match verb {
        'b' => 2,
        'o' => 8,
        'x' | 'X' => 16,
        _ => return format_number(n),
    };
    if n < 1.8e19 {
        let i = n as u64;
        return match base {
            2 => format!("{i:b}"),
            8 => format!("{i:o}"),
            _ if verb == 'X' => format!("{i:X}"),
            _ => format!("{i:x}"),
        };
    }
    // Beyond u64: digit by digit (exact, the value being a whole f64).
    let mut digits = Vec::new();
    let mut x = n;
    while x >= 1.0 {
        let d = (x % f64::from(base)) as u32;
        digits.push(std::char::from_digit(d, base).unwrap_or('0'));
        x = ((x - f64::from(d)) / f64::from(base)).floor();
    }
    let text: String = digits.into_iter().rev().collect();
    if verb == 'X' {
        text.to_uppercase()
    } else {
        text
    }
}

/// Go's `%e`: `d.dddddde±dd`.
fn go_exp(n: f64, precision: usize) -> String {
    let text = format!("{n:.precision$e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// Go's `%g`: the shortest form (or `precision` significant digits, trailing zeros
/// dropped), with an exponent when it is below -4 or at least the precision (6 for the
/// shortest form).
fn go_general(n: f64, precision: Option<usize>) -> String {
    let text = match precision {
        None => format!("{n:e}"),
        Some(p) => format!("{n:.*e}", p.max(1) - 1),
    };
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let trimmed = digits.trim_end_matches('0');
    let digits = if trimmed.is_empty() { "0" } else { trimmed };
    let nd = digits.len() as i32;
    let eprec = match precision {
        None => 6,
        Some(p) if p.max(1) as i32 > nd && nd > exp => nd,
        Some(p) => p.max(1) as i32,
    };
    if exp < -4 || exp >= eprec {
        let rest = &digits[1..];
        let mantissa = if rest.is_empty() {
            digits[..1].to_owned()
        } else {
            format!("{}.{rest}", &digits[..1])
        };
        return format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let point = exp + 1;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= nd {
        format!("{digits}{}", "0".repeat((point - nd) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    }
}

/// The elements of a list argument (for `length`).
pub(super) fn count(v: &Value) -> Option<usize> {
    match v {
        Value::String(t) => Some(graphemes(t).len()),
        _ => list(v, "").ok().map(<[Value]>::len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphemes_join_accents_emoji_and_flags() {
        assert_eq!(graphemes("e\u{301}x"), ["e\u{301}", "x"]);
        assert_eq!(graphemes("👍🏽🇫🇷🇩🇪"), ["👍🏽", "🇫🇷", "🇩🇪"]);
        assert_eq!(graphemes("a\r\nb"), ["a", "\r\n", "b"]);
        assert_eq!(graphemes(""), Vec::<&str>::new());
    }

    #[test]
    fn format_verbs() {
        let out = format_str(
            "%s-%d %q %v %% %05d %-4s| %.2f %t %[1]s",
            &[
                s("a"),
                Value::Number(7.0),
                s("x\"y"),
                Value::List(vec![Value::Number(1.0)]),
                Value::Number(42.0),
                s("ab"),
                Value::Number(1.234),
                Value::Bool(true),
            ],
        )
        .unwrap();
        assert_eq!(out, "a-7 \"x\\\"y\" [1] % 00042 ab  | 1.23 true a");
        assert!(format_str("%d", &[Value::Number(1.5)]).is_err());
        assert!(format_str("%s %s", &[s("a")]).is_err());
        assert!(format_str("%z", &[Value::Number(1.0)]).is_err());
    }
}
