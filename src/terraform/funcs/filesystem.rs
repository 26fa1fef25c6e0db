//! Filesystem functions. Paths are strings until a function reads a file: `basename`,
//! `dirname`, `abspath` and `pathexpand` only rewrite them, as Go's `path/filepath` does.
//! The functions that read (`file`, `fileexists`, `filebase64`, the `file*` hashes,
//! `templatefile`, `fileset`) take relative paths from the root module's directory, where Terraform
//! runs (which is why modules write `"${path.module}/x.json"`), and read only inside the
//! configuration's own directories (`files::Confinement`): a refusal names the path as
//! written and never quotes the file. They go through the evaluator's `files::FileAccess`
//! and never touch the filesystem themselves.

use super::hash::{Algo, hash};
use super::{FnError, Func, Ret, err, object, s, string};
use crate::terraform::eval::Evaluator;
use crate::terraform::files::{Kind, Refusal};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::evaluator("abspath", 1, 1, abspath),
    Func::pure("basename", 1, 1, |a| {
        Ok(s(basename(&string(&a[0], "the path")?)))
    }),
    Func::pure("dirname", 1, 1, |a| {
        Ok(s(dirname(&string(&a[0], "the path")?)))
    }),
    Func::evaluator("file", 1, 1, file),
    Func::evaluator("filebase64", 1, 1, |ev, a| {
        Ok(s(crate::base64::encode(&bytes(ev, a)?)))
    }),
    Func::evaluator("filebase64sha256", 1, 1, |ev, a| {
        Ok(hash(Algo::Sha256, &bytes(ev, a)?, true))
    }),
    Func::evaluator("filebase64sha512", 1, 1, |ev, a| {
        Ok(hash(Algo::Sha512, &bytes(ev, a)?, true))
    }),
    Func::evaluator("fileexists", 1, 1, fileexists),
    Func::evaluator("fileset", 2, 2, fileset),
    Func::evaluator("filemd5", 1, 1, |ev, a| {
        Ok(hash(Algo::Md5, &bytes(ev, a)?, false))
    }),
    Func::evaluator("filesha1", 1, 1, |ev, a| {
        Ok(hash(Algo::Sha1, &bytes(ev, a)?, false))
    }),
    Func::evaluator("filesha256", 1, 1, |ev, a| {
        Ok(hash(Algo::Sha256, &bytes(ev, a)?, false))
    }),
    Func::evaluator("filesha512", 1, 1, |ev, a| {
        Ok(hash(Algo::Sha512, &bytes(ev, a)?, false))
    }),
    Func::pure("pathexpand", 1, 1, pathexpand),
    Func::evaluator("templatefile", 2, 2, templatefile).passes_unknown_except(&[0]),
    // The evaluator first checks that the template is a reference (`eval.rs`, `call`).
    Func::evaluator("templatestring", 2, 2, templatestring).passes_unknown_except(&[0]),
];

/// A refusal to read `path`: fatal unless the file is merely missing or not text.
fn refused(path: &str, r: Refusal) -> FnError {
    FnError {
        message: format!("{path}: {}", r.message()),
        hint: r.hint().to_owned(),
        fatal: !matches!(r, Refusal::Io(_) | Refusal::NotText),
        unknown: false,
        nested: Vec::new(),
    }
}

/// The bytes of the file the first argument names.
fn bytes(ev: &mut Evaluator, a: &[Value]) -> Result<Vec<u8>, FnError> {
    let path = string(&a[0], "the path")?;
    let resolved = ev.resolve_path(&path);
    ev.files
        .read_bytes(&resolved)
        .map_err(|r| refused(&path, r))
}

/// The text of the file the first argument names.
fn text(ev: &mut Evaluator, a: &[Value]) -> Result<String, FnError> {
    let path = string(&a[0], "the path")?;
    let resolved = ev.resolve_path(&path);
    ev.files.read(&resolved).map_err(|r| refused(&path, r))
}

fn file(ev: &mut Evaluator, a: &[Value]) -> Ret {
    text(ev, a).map(Value::String)
}

fn fileexists(ev: &mut Evaluator, a: &[Value]) -> Ret {
    let path = string(&a[0], "the path")?;
    let resolved = ev.resolve_path(&path);
    ev.files
        .exists(&resolved)
        .map(Value::Bool)
        .map_err(|r| refused(&path, r))
}

fn templatefile(ev: &mut Evaluator, a: &[Value]) -> Ret {
    let path = string(&a[0], "the path")?;
    let text = text(ev, a)?;
    let display = ev.display_path(&path);
    render(ev, display, text, &a[1])
}

/// `templatestring(ref, vars)`: a template held in a string elsewhere in the configuration,
/// rendered as `templatefile` renders a file.
fn templatestring(ev: &mut Evaluator, a: &[Value]) -> Ret {
    let text = string(&a[0], "the template")?;
    render(
        ev,
        "(the template given to templatestring)".to_owned(),
        text,
        &a[1],
    )
}

/// Renders `text` with only `vars` in scope.
fn render(ev: &mut Evaluator, display: String, text: String, vars: &Value) -> Ret {
    let vars = object(vars, "the variables")?.clone();
    if let Some(bad) = vars.keys().find(|k| !is_identifier(k)) {
        return err(format!("\"{bad}\" is not a valid template variable name"));
    }
    // A problem inside the template names the template, so it is reported as is.
    ev.render_template_file(display, text, vars)
        .map_err(|f| FnError {
            message: String::new(),
            hint: String::new(),
            fatal: f.fatal,
            unknown: f.unknown,
            nested: f.problems,
        })
}

/// `fileset(path, pattern)`: the regular files under `path` the glob `pattern` matches, as
/// paths relative to it (`funcs/glob.rs`); a `path` outside the configuration's directories
/// is refused, one that does not exist has none.
fn fileset(ev: &mut Evaluator, a: &[Value]) -> Ret {
    let path = string(&a[0], "the path")?;
    let pattern = string(&a[1], "the pattern")?;
    let base = ev.resolve_path(&clean(&path));
    match ev.files.stat(&base) {
        Ok(Kind::Missing) => return Ok(crate::terraform::value::make_set(Vec::new())),
        Ok(_) => {}
        Err(r) => return Err(refused(&path, r)),
    }
    match super::glob::fileset(&base, &pattern, ev.files.as_ref()) {
        Ok(names) => Ok(crate::terraform::value::make_set(
            names.into_iter().map(Value::String).collect(),
        )),
        Err(super::glob::GlobError::BadPattern) => err("the pattern is not a valid glob"),
        Err(super::glob::GlobError::TooLarge) => err(format!(
            "the pattern reaches too many files (more than {} directory entries, or too many {{a,b}} alternatives)",
            super::glob::MAX_ENTRIES
        )),
    }
}

/// Go's `filepath.Abs`: relative paths joined to the directory Terraform runs in, cleaned.
fn abspath(ev: &mut Evaluator, a: &[Value]) -> Ret {
    let path = string(&a[0], "the path")?;
    if path.starts_with('/') {
        return Ok(s(clean(&path)));
    }
    let cwd = ev.root_dir.to_string_lossy().replace('\\', "/");
    Ok(s(clean(&format!("{cwd}/{path}"))))
}

/// `pathexpand`: a leading `~` becomes the home directory (`$HOME`).
fn pathexpand(a: &[Value]) -> Ret {
    let path = string(&a[0], "the path")?;
    if !path.starts_with('~') {
        return Ok(s(path));
    }
    if path.len() > 1 && !path[1..].starts_with('/') {
        return err("cannot expand user-specific home dir");
    }
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return err("cannot expand ~: no home directory ($HOME is not set)");
    };
    Ok(s(format!("{}{}", home.to_string_lossy(), &path[1..])))
}

/// Whether a `templatefile` variable name is a valid HCL identifier.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Go's `filepath.Base` on Unix paths: the last element, trailing slashes ignored.
fn basename(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir` on Unix paths: all but the last element, cleaned.
fn dirname(path: &str) -> String {
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    clean(dir)
}

/// Go's `filepath.Clean`: the shortest equivalent path, lexically.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basename_and_dirname_as_terraform() {
        // Recorded with `terraform console` (1.11).
        let cases = [
            ("", ".", "."),
            ("/", "/", "/"),
            ("a/b/", "b", "a/b"),
            ("a//b", "b", "a"),
            ("/a", "a", "/"),
            ("a", "a", "."),
            ("a//b/../c", "c", "a"),
            ("./x", "x", "."),
            ("../x/y", "y", "../x"),
            ("/../a", "a", "/"),
        ];
        for (path, base, dir) in cases {
            assert_eq!(basename(path), base, "basename({path:?})");
            assert_eq!(dirname(path), dir, "dirname({path:?})");
        }
    }
}
