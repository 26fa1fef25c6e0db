//! `fileset`'s glob patterns, matched as Terraform matches them: the base path and the
//! pattern joined and cleaned (so `conf/*/` is `conf/*`), then segment by segment, where `**`
//! is any number of directories and, within a segment, `*`, `?`, `[a-z]` / `[^a]` classes,
//! `{a,b}` alternatives and `\` escapes have Go's meanings (`[!a]` is a class of `!` and `a`,
//! not a negation). Only regular files are returned; a base that does not exist has none.
//!
//! The walk reads directories through the evaluator's [`FileAccess`], never the filesystem
//! itself, so it stays inside the configuration's directories (`files::Confinement`): a link
//! that leads out of them is not followed, and its name is not returned. It is bounded:
//! [`MAX_ENTRIES`] directory entries looked at, [`MAX_ALTERNATIVES`] patterns after braces
//! expand.

use std::path::{Path, PathBuf};

use crate::terraform::files::{FileAccess, Kind};

/// How many directory entries one `fileset` may look at.
pub(crate) const MAX_ENTRIES: usize = 100_000;

/// How many patterns `{a,b}` alternatives may expand to.
const MAX_ALTERNATIVES: usize = 256;

/// Why a pattern cannot be matched.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GlobError {
    /// Not a valid pattern (an unclosed `[` or `{`, a trailing `\`).
    BadPattern,
    /// More alternatives or directory entries than the limits allow.
    TooLarge,
}

/// The alternatives of `pattern` once every `{a,b}` is expanded.
pub(crate) fn expand(pattern: &str) -> Result<Vec<String>, GlobError> {
    let Some(open) = find_unescaped(pattern, b'{') else {
        return Ok(vec![pattern.to_owned()]);
    };
    // The matching close, and the top-level commas between.
    let b = pattern.as_bytes();
    let (mut depth, mut i, mut commas, mut close) = (0usize, open, Vec::new(), None);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    let close = close.ok_or(GlobError::BadPattern)?;
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        for rest in expand(&format!("{head}{}{tail}", &pattern[w[0] + 1..w[1]]))? {
            out.push(rest);
            if out.len() > MAX_ALTERNATIVES {
                return Err(GlobError::TooLarge);
            }
        }
    }
    Ok(out)
}

fn find_unescaped(s: &str, want: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == want => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether `pattern` (one segment, braces expanded) matches `name`, as Go's
/// `filepath.Match` does.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, GlobError> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic backtracking over the last `*`: linear in practice, never exponential.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    let (matched, len) = class(&p[pi..], n.get(ni).copied())?;
                    if matched {
                        pi += len;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    let c = *p.get(pi + 1).ok_or(GlobError::BadPattern)?;
                    if n.get(ni) == Some(&c) {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if n.get(ni) == Some(&c) => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Ok(true);
        }
        // A mismatch: let the last `*` take one more character, if there is one.
        match star {
            Some((sp, sn)) if sn < n.len() => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => {
                // The rest of the pattern must still be well formed, as Go checks it.
                check(&p[pi.min(p.len())..])?;
                return Ok(false);
            }
        }
    }
}

/// Whether the rest of a pattern is well formed.
fn check(p: &[char]) -> Result<(), GlobError> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '[' => i += class(&p[i..], None)?.1,
            '\\' if i + 1 >= p.len() => return Err(GlobError::BadPattern),
            '\\' => i += 2,
            _ => i += 1,
        }
    }
    Ok(())
}

/// A `[...]` class at the start of `p`: whether it matches `c` (never, for `None`) and how
/// many characters it takes.
fn class(p: &[char], c: Option<char>) -> Result<(bool, usize), GlobError> {
    let mut i = 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = match p.get(i) {
            None => return Err(GlobError::BadPattern),
            Some(']') if !first => break,
            Some('\\') => {
                i += 1;
                *p.get(i).ok_or(GlobError::BadPattern)?
            }
            Some(&ch) => ch,
        };
        i += 1;
        first = false;
        let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&h| h != ']') {
            i += 1;
            let h = match p[i] {
                '\\' => {
                    i += 1;
                    *p.get(i).ok_or(GlobError::BadPattern)?
                }
                h => h,
            };
            i += 1;
            h
        } else {
            lo
        };
        if c.is_some_and(|c| lo <= c && c <= hi) {
            matched = true;
        }
    }
    Ok((c.is_some() && matched != negated, i + 1))
}

/// The regular files under `base` that `pattern` matches, as paths relative to `base` with
/// `/` separators, sorted. `files` is how the walk sees the directories.
pub(crate) fn fileset(
    base: &Path,
    pattern: &str,
    files: &dyn FileAccess,
) -> Result<Vec<String>, GlobError> {
    let mut found = Vec::new();
    let mut budget = MAX_ENTRIES;
    for alternative in expand(pattern)? {
        let segments: Vec<&str> = clean_segments(&alternative);
        walk(base, &segments, files, &mut budget, &mut found)?;
    }
    let mut out: Vec<String> = found
        .iter()
        .filter_map(|p| p.strip_prefix(base).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The pattern's segments after Go's `filepath.Clean`: no empty or `.` segments (a trailing
/// `/` is dropped). `..` is kept: the walk refuses to leave the base.
fn clean_segments(pattern: &str) -> Vec<&str> {
    pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

fn walk(
    dir: &Path,
    segments: &[&str],
    files: &dyn FileAccess,
    budget: &mut usize,
    found: &mut Vec<PathBuf>,
) -> Result<(), GlobError> {
    let Some((segment, rest)) = segments.split_first() else {
        if files.stat(dir) == Ok(Kind::File) {
            found.push(dir.to_path_buf());
        }
        return Ok(());
    };
    if *segment == "**" {
        // Zero directories; or one more, and `**` again. Last in the pattern, it matches the
        // files at every depth.
        walk(dir, rest, files, budget, found)?;
        for (path, kind) in entries(dir, files, budget)? {
            match kind {
                Kind::Dir => walk(&path, segments, files, budget, found)?,
                Kind::File if rest.is_empty() => found.push(path),
                _ => {}
            }
        }
        return Ok(());
    }
    if *segment == ".." {
        // Out of the base: nothing Terraform would list there is the configuration's.
        return Ok(());
    }
    for (path, _) in entries(dir, files, budget)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        if matches(segment, &name)? {
            walk(&path, rest, files, budget, found)?;
        }
    }
    Ok(())
}

/// The entries of `dir` that may be looked at, sorted, each with its kind (a link to a
/// directory is not walked into, so no loop). Every entry counts against the bound, one that
/// may not be looked at too; a directory that cannot be listed has none.
fn entries(
    dir: &Path,
    files: &dyn FileAccess,
    budget: &mut usize,
) -> Result<Vec<(PathBuf, Kind)>, GlobError> {
    let Ok(listed) = files.list(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in listed {
        *budget = budget.checked_sub(1).ok_or(GlobError::TooLarge)?;
        let Ok(entry) = entry else {
            continue;
        };
        out.push((dir.join(entry.name), entry.kind));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_match_as_go_matches_them() {
        for (pattern, name, want) in [
            ("*.yaml", "app.yaml", true),
            ("*.yaml", ".hidden.yaml", true),
            ("?b.yaml", "db.yaml", true),
            ("[ad]*", "db", true),
            ("[!a]*", "app", true),
            ("[!a]*", "db", false),
            ("[^a]*", "db", true),
            ("[^a]*", "app", false),
            ("[a-c]*", "b", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
        ] {
            assert_eq!(matches(pattern, name), Ok(want), "{pattern} {name}");
        }
        assert_eq!(matches("[", "a"), Err(GlobError::BadPattern));
        assert_eq!(matches("a[", "b"), Err(GlobError::BadPattern));
        assert_eq!(
            expand("{a,b}/*.{x,y}").unwrap(),
            ["a/*.x", "a/*.y", "b/*.x", "b/*.y"]
        );
        assert_eq!(expand("{a"), Err(GlobError::BadPattern));
        assert_eq!(expand(&"{a,b}".repeat(9)), Err(GlobError::TooLarge));
    }
}
