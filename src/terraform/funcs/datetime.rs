//! Date and time functions over RFC 3339 timestamps: `formatdate`, `timeadd`, `timecmp`.
//! `timestamp()` and `plantimestamp()` are impure (known only at apply).

use super::{Func, Ret, err, s, string};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::pure("formatdate", 2, 2, formatdate),
    Func::impure("plantimestamp", 0, 0),
    Func::pure("timeadd", 2, 2, timeadd),
    Func::pure("timecmp", 2, 2, timecmp),
    Func::impure("timestamp", 0, 0),
];

/// A point in time with the offset it was written in.
#[derive(Clone, Copy)]
struct Time {
    /// Seconds since 1970-01-01T00:00:00Z.
    unix: i64,
    /// Nanoseconds within the second.
    nanos: u32,
    /// The offset from UTC, in seconds.
    offset: i32,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub(super) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, ...)` does.
fn parse(text: &str) -> Result<Time, super::FnError> {
    let bad = || err("not a valid RFC3339 timestamp");
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return bad();
    };
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return bad();
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if sep(i, b'.') || sep(i, b',') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return bad();
        }
        let frac = &text[start..i.min(start + 9)];
        nanos = format!("{frac:0<9}").parse().unwrap_or(0);
    }
    let offset = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && sep(i + 3, b':') => {
            let (Some(oh), Some(om)) = (digits(i + 1..i + 3), digits(i + 4..i + 6)) else {
                return bad();
            };
            if oh > 23 || om > 59 {
                return bad();
            }
            let o = (oh * 3600 + om * 60) as i32;
            if *sign == b'-' { -o } else { o }
        }
        _ => return bad(),
    };
    if !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(i64::from(y), mo)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return bad();
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let local = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec);
    Ok(Time {
        unix: local - i64::from(offset),
        nanos,
        offset,
    })
}

/// The civil fields of a time in its own offset: (year, month, day, hour, minute, second,
/// weekday with Sunday 0).
fn fields(t: &Time) -> (i64, u32, u32, u32, u32, u32, u32) {
    let local = t.unix + i64::from(t.offset);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 4).rem_euclid(7) as u32;
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60, weekday)
}

/// The offset as `+hh:mm` (`colon`) or `+hhmm`.
fn offset_text(offset: i32, colon: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    let sep = if colon { ":" } else { "" };
    format!("{sign}{:02}{sep}{:02}", o / 3600, o / 60 % 60)
}

/// RFC 3339 without fractional seconds, as Go's `time.RFC3339` layout writes it.
fn rfc3339(t: &Time) -> String {
    let (y, mo, d, h, mi, sec, _) = fields(t);
    let zone = if t.offset == 0 {
        "Z".to_owned()
    } else {
        offset_text(t.offset, true)
    };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{zone}")
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn formatdate(a: &[Value]) -> Ret {
    let spec = string(&a[0], "the format")?;
    let t = parse(&string(&a[1], "the timestamp")?)?;
    let (y, mo, d, h, mi, sec, wd) = fields(&t);
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // A quoted literal; '' is a quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return err("unterminated literal '"),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        out.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(&other) => {
                        out.push(other);
                        j += 1;
                    }
                }
            }
            i = j + 1;
            continue;
        }
        if !c.is_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|x| **x == c).count();
        let token: String = chars[i..i + run].iter().collect();
        let text = match token.as_str() {
            "YYYY" => format!("{y:04}"),
            "YY" => format!("{:02}", y.rem_euclid(100)),
            "MMMM" => MONTHS[mo as usize - 1].to_owned(),
            "MMM" => MONTHS[mo as usize - 1][..3].to_owned(),
            "MM" => format!("{mo:02}"),
            "M" => mo.to_string(),
            "DD" => format!("{d:02}"),
            "D" => d.to_string(),
            "EEEE" => DAYS[wd as usize].to_owned(),
            "EEE" => DAYS[wd as usize][..3].to_owned(),
            "hh" => format!("{h:02}"),
            "h" => h.to_string(),
            "HH" => format!("{h12:02}"),
            "H" => h12.to_string(),
            "AA" => (if h < 12 { "AM" } else { "PM" }).to_owned(),
            "aa" => (if h < 12 { "am" } else { "pm" }).to_owned(),
            "mm" => format!("{mi:02}"),
            "m" => mi.to_string(),
            "ss" => format!("{sec:02}"),
            "s" => sec.to_string(),
            "ZZZZZ" => offset_text(t.offset, true),
            "ZZZZ" => offset_text(t.offset, false),
            "ZZZ" if t.offset == 0 => "UTC".to_owned(),
            "ZZZ" => offset_text(t.offset, false),
            "Z" if t.offset == 0 => "Z".to_owned(),
            "Z" => offset_text(t.offset, true),
            other => return err(format!("invalid date format verb \"{other}\"")),
        };
        out.push_str(&text);
        i += run;
    }
    Ok(s(out))
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn duration(text: &str) -> Result<i128, super::FnError> {
    let bad = || err("time: invalid duration");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return bad();
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return bad();
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return err("time: missing unit in duration"),
            _ => return err("time: unknown unit in duration (ns, us, ms, s, m, h)"),
        };
        rest = &rest[unit_len..];
        total += num.parse::<f64>().unwrap_or(0.0) * scale;
    }
    if total > 9.223_372_036_854_776e18 {
        return bad();
    }
    let n = total.round() as i128;
    Ok(if negative { -n } else { n })
}

fn timeadd(a: &[Value]) -> Ret {
    let t = parse(&string(&a[0], "the timestamp")?)?;
    let d = duration(&string(&a[1], "the duration")?)?;
    let total = i128::from(t.unix) * 1_000_000_000 + i128::from(t.nanos) + d;
    let out = Time {
        unix: total.div_euclid(1_000_000_000) as i64,
        nanos: total.rem_euclid(1_000_000_000) as u32,
        offset: t.offset,
    };
    Ok(s(rfc3339(&out)))
}

fn timecmp(a: &[Value]) -> Ret {
    let x = parse(&string(&a[0], "the first timestamp")?)?;
    let y = parse(&string(&a[1], "the second timestamp")?)?;
    let ord = (x.unix, x.nanos).cmp(&(y.unix, y.nanos));
    Ok(Value::Number(ord as i8 as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        for days in [-719_468, -1, 0, 1, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
