//! Crate metadata: `.cargo_vcs_info.json` (every historic shape) and manifests
//! (`Cargo.toml.orig`, the normalized `Cargo.toml`, and `Cargo.toml` files read from git trees),
//! parsed with `serde_json` / `toml` under size and nesting limits.
//!
//! Mirrors what cargo writes in `src/cargo/ops/cargo_package/vcs.rs` (vcs info) and reads in
//! `src/cargo/util/toml/mod.rs` (`normalize_package_readme`, workspace inheritance).

use serde::Deserialize;

use crate::error::{ErrorKind, LimitError};
use crate::limits::Limits;

/// Errors reading crate metadata.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.crate` has no `Cargo.toml`.
    #[error("the crate has no `Cargo.toml`")]
    MissingManifest,
    /// The root manifest exists only with another case (`CARGO.TOML`), or more than once.
    #[error("the crate's manifest is ambiguous: {paths}")]
    AmbiguousManifest {
        /// The candidate paths.
        paths: String,
    },
    /// A manifest could not be parsed.
    #[error("failed to parse `{file}`: {message}")]
    ManifestParse {
        /// Which manifest.
        file: String,
        /// The parser's message (line and column included where known).
        message: String,
    },
    /// `.cargo_vcs_info.json` is present but unusable.
    #[error("malformed `.cargo_vcs_info.json`: {message}")]
    MalformedVcsInfo {
        /// What was wrong.
        message: String,
    },
    /// The manifest's name/version disagrees with the archive prefix or the request.
    #[error("identity mismatch: {field} is `{found}` but `{expected}` was expected")]
    IdentityMismatch {
        /// `name` or `version`.
        field: &'static str,
        /// What the crate says.
        found: String,
        /// What was expected (archive prefix or request).
        expected: String,
    },
    /// A limit was exceeded.
    #[error("{0}")]
    LimitExceeded(LimitError),
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
            _ => ErrorKind::InvalidMetadata,
        }
    }
}

/// The parsed `.cargo_vcs_info.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsInfo {
    /// The commit id, validated as 40 (or 64) lowercase hex digits.
    pub sha1: String,
    /// `git.dirty` (cargo ≥ 1.81 writes it only when true).
    pub dirty: bool,
    /// `path_in_vcs` (cargo ≥ 1.57); validated to stay inside the repository.
    pub path_in_vcs: Option<String>,
}

#[derive(Deserialize)]
struct RawVcs {
    git: RawGit,
    #[serde(default)]
    path_in_vcs: Option<String>,
}

#[derive(Deserialize)]
struct RawGit {
    sha1: String,
    #[serde(default)]
    dirty: Option<bool>,
}

/// Parse `.cargo_vcs_info.json` bytes. Unknown fields are accepted (forward compatible);
/// duplicate keys, wrong types, non-hex ids and escaping paths are refused.
pub fn parse_vcs_info(bytes: &[u8], limits: &Limits) -> Result<VcsInfo, Error> {
    if bytes.len() as u64 > limits.max_vcs_info_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_vcs_info_bytes",
            max: limits.max_vcs_info_bytes,
            value: bytes.len() as u64,
        }));
    }
    let bad = |m: String| Error::MalformedVcsInfo { message: m };
    let raw: RawVcs = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    check_duplicate_keys(bytes).map_err(bad)?;
    let sha1 = raw.git.sha1;
    let hex_ok = (sha1.len() == 40 || sha1.len() == 64)
        && sha1
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok {
        return Err(bad(format!(
            "`git.sha1` is not a lowercase hex object id: `{}`",
            crate::text::escape(sha1.as_bytes())
        )));
    }
    let path_in_vcs = match raw.path_in_vcs {
        Some(p) => Some(validate_repo_path(&p).map_err(|m| bad(format!("`path_in_vcs` {m}")))?),
        None => None,
    };
    Ok(VcsInfo {
        sha1,
        dirty: raw.git.dirty.unwrap_or(false),
        path_in_vcs,
    })
}

/// serde ignores duplicates of unknown keys and errors on known ones only inside structs it
/// fully controls; walk the document once more to refuse any duplicate key (other JSON parsers
/// take the last one, so duplicates let two tools read different commits).
fn check_duplicate_keys(bytes: &[u8]) -> Result<(), String> {
    use serde::de::{MapAccess, SeqAccess, Visitor};
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("json")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut keys = std::collections::BTreeSet::new();
            while let Some(k) = map.next_key::<String>()? {
                if !keys.insert(k.clone()) {
                    return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                }
                map.next_value_seed(Seed)?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Seed)?.is_some() {}
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    struct Seed;
    impl<'de> serde::de::DeserializeSeed<'de> for Seed {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(V)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde::Deserializer::deserialize_any(&mut de, V).map_err(|e| e.to_string())
}

/// Validate a repository-relative directory path (from `path_in_vcs` or a manifest): relative,
/// `/`-separated, no `.`/`..`/empty components, no backslash, no NUL, not `.git`. Returns it
/// without a trailing slash; `""` is the repository root.
pub fn validate_repo_path(p: &str) -> Result<String, String> {
    if p.len() > 4096 {
        return Err("is longer than 4096 bytes".into());
    }
    if p.contains('\0') || p.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    if p.contains('\\') {
        return Err("contains a backslash".into());
    }
    if p.starts_with('/') || (p.len() >= 2 && p.as_bytes()[1] == b':') {
        return Err("is absolute".into());
    }
    let trimmed = p.strip_suffix('/').unwrap_or(p);
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    for c in trimmed.split('/') {
        match c {
            "" | "." | ".." => return Err(format!("has a `{c}` component")),
            c if c.eq_ignore_ascii_case(".git") => return Err("names a `.git` directory".into()),
            _ => {}
        }
    }
    Ok(trimmed.to_owned())
}

/// A manifest field that may be inherited from the workspace (`field.workspace = true`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    /// Not set.
    #[default]
    Absent,
    /// Set to a value.
    Value(T),
    /// `{ workspace = true }`.
    Inherit,
}

impl<T: Clone> Field<T> {
    /// The value, if set directly.
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// `package.readme`: a path, or `true` / `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readme {
    /// A path relative to the manifest.
    Path(String),
    /// `true` (= `README.md`) or `false` (none).
    Bool(bool),
}

/// The parts of a `Cargo.toml` that decide file selection and identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// `package.name`.
    pub name: Option<String>,
    /// `package.version`.
    pub version: Field<String>,
    /// `package.repository`.
    pub repository: Field<String>,
    /// `package.include`.
    pub include: Field<Vec<String>>,
    /// `package.exclude`.
    pub exclude: Field<Vec<String>>,
    /// `package.readme`.
    pub readme: Field<Readme>,
    /// `package.license-file`.
    pub license_file: Field<String>,
    /// `package.build` as a path (`Some(None)` = `build = false`).
    pub build: Option<Option<String>>,
    /// `package.workspace` (path to the workspace root).
    pub workspace_path: Option<String>,
    /// Whether the file has a `[package]` (or legacy `[project]`) table.
    pub has_package: bool,
    /// `[workspace]` is present: this manifest is a workspace root.
    pub is_workspace_root: bool,
    /// `[workspace.package]` values (for inheritance).
    pub workspace_package: WorkspacePackage,
    /// Whether the manifest declares `[[bin]]` or `[[example]]` targets, or `src/main.rs`-style
    /// auto targets cannot be ruled out (used only for era reasoning about `Cargo.lock`).
    pub has_bin_or_example_table: bool,
    /// `[lib] proc-macro = true`.
    pub proc_macro: bool,
}

/// The inheritable fields of `[workspace.package]` that affect packaging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspacePackage {
    /// `version`.
    pub version: Option<String>,
    /// `repository`.
    pub repository: Option<String>,
    /// `include`.
    pub include: Option<Vec<String>>,
    /// `exclude`.
    pub exclude: Option<Vec<String>>,
    /// `readme`.
    pub readme: Option<Readme>,
    /// `license-file`.
    pub license_file: Option<String>,
}

/// Reject documents nested deeper than `max` (arrays, inline tables, dotted keys) before the
/// recursive TOML parser sees them (toml-rs/toml#206).
fn check_nesting(text: &str, max: usize) -> Result<(), String> {
    let mut depth = 0usize;
    let mut in_str: Option<char> = None;
    let mut escaped = false;
    let mut in_comment = false;
    let mut dots_in_line = 0usize;
    for c in text.chars() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
                dots_in_line = 0;
            }
            continue;
        }
        if let Some(q) = in_str {
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                // Basic strings have escapes; literal ('...') strings do not.
                escaped = true;
            } else if c == q {
                in_str = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => in_str = Some(c),
            '#' => in_comment = true,
            '[' | '{' => {
                depth += 1;
                if depth > max {
                    return Err(format!("nested deeper than {max} levels"));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            '.' => {
                dots_in_line += 1;
                if dots_in_line > max {
                    return Err(format!("a key has more than {max} dotted parts"));
                }
            }
            '\n' => dots_in_line = 0,
            _ => {}
        }
    }
    Ok(())
}

/// Parse attacker-controlled TOML (a manifest, `Cargo.toml.orig`, `Cargo.lock`) into a table,
/// after the same nesting pre-check as [`parse_manifest`] (deep nesting would recurse in the
/// parser). `None` if it is not UTF-8, nests deeper than 128 levels, or does not parse.
pub(crate) fn parse_toml_table(bytes: &[u8]) -> Option<toml::Table> {
    let text = std::str::from_utf8(bytes).ok()?;
    check_nesting(text, 128).ok()?;
    text.parse::<toml::Table>().ok()
}

/// Parse a manifest's bytes. `file` names it in errors.
pub fn parse_manifest(bytes: &[u8], file: &str, limits: &Limits) -> Result<Manifest, Error> {
    if bytes.len() as u64 > limits.max_manifest_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_manifest_bytes",
            max: limits.max_manifest_bytes,
            value: bytes.len() as u64,
        }));
    }
    let perr = |message: String| Error::ManifestParse {
        file: file.to_owned(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| perr(format!("invalid utf-8: {e}")))?;
    check_nesting(text, 128).map_err(perr)?;
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| perr(e.message().to_owned() + &location(text, e.span())))?;
    Ok(from_table(&table))
}

fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(" (line {line}, column {col})")
}

fn str_field(v: Option<&toml::Value>) -> Field<String> {
    match v {
        Some(toml::Value::String(s)) => Field::Value(s.clone()),
        Some(toml::Value::Table(t))
            if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
        {
            Field::Inherit
        }
        _ => Field::Absent,
    }
}

fn list_field(v: Option<&toml::Value>) -> Field<Vec<String>> {
    match v {
        Some(toml::Value::Array(a)) => Field::Value(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
        ),
        Some(toml::Value::Table(t))
            if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
        {
            Field::Inherit
        }
        _ => Field::Absent,
    }
}

fn readme_value(v: &toml::Value) -> Option<Readme> {
    match v {
        toml::Value::String(s) => Some(Readme::Path(s.clone())),
        toml::Value::Boolean(b) => Some(Readme::Bool(*b)),
        _ => None,
    }
}

fn from_table(t: &toml::Table) -> Manifest {
    let mut m = Manifest::default();
    let pkg = t
        .get("package")
        .or_else(|| t.get("project"))
        .and_then(toml::Value::as_table);
    if let Some(p) = pkg {
        m.has_package = true;
        m.name = p
            .get("name")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        m.version = str_field(p.get("version"));
        m.repository = str_field(p.get("repository"));
        m.include = list_field(p.get("include"));
        m.exclude = list_field(p.get("exclude"));
        m.license_file = str_field(p.get("license-file"));
        m.readme = match p.get("readme") {
            None => Field::Absent,
            Some(toml::Value::Table(t))
                if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
            {
                Field::Inherit
            }
            Some(v) => readme_value(v).map_or(Field::Absent, Field::Value),
        };
        m.build = match p.get("build") {
            Some(toml::Value::String(s)) => Some(Some(s.clone())),
            Some(toml::Value::Boolean(false)) => Some(None),
            _ => None,
        };
        m.workspace_path = p
            .get("workspace")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
    }
    m.has_bin_or_example_table = t.contains_key("bin") || t.contains_key("example");
    m.proc_macro = t
        .get("lib")
        .and_then(toml::Value::as_table)
        .is_some_and(|l| {
            l.get("proc-macro")
                .or_else(|| l.get("proc_macro"))
                .and_then(toml::Value::as_bool)
                == Some(true)
        });
    if let Some(ws) = t.get("workspace").and_then(toml::Value::as_table) {
        m.is_workspace_root = true;
        if let Some(wp) = ws.get("package").and_then(toml::Value::as_table) {
            let s = |k: &str| wp.get(k).and_then(toml::Value::as_str).map(str::to_owned);
            let l = |k: &str| {
                wp.get(k).and_then(toml::Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
            };
            m.workspace_package = WorkspacePackage {
                version: s("version"),
                repository: s("repository"),
                include: l("include"),
                exclude: l("exclude"),
                readme: wp.get("readme").and_then(readme_value),
                license_file: s("license-file"),
            };
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_info_shapes() {
        let l = Limits::default();
        let a = parse_vcs_info(
            br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"}}"#,
            &l,
        )
        .unwrap();
        assert_eq!(a.path_in_vcs, None);
        assert!(!a.dirty);
        let b = parse_vcs_info(
            br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567","dirty":true},"path_in_vcs":"a/b","x":1}"#,
            &l,
        )
        .unwrap();
        assert!(b.dirty);
        assert_eq!(b.path_in_vcs.as_deref(), Some("a/b"));
        assert!(parse_vcs_info(br#"{"git":{"sha1":"HEAD"}}"#, &l).is_err());
        assert!(parse_vcs_info(br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"path_in_vcs":"../x"}"#, &l).is_err());
        assert!(
            parse_vcs_info(
                br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567","sha1":"1123456789abcdef0123456789abcdef01234567"}}"#,
                &l
            )
            .is_err()
        );
    }

    #[test]
    fn nesting_check_is_not_fooled_by_comments_or_escapes() {
        let deep = "[".repeat(500);
        for prefix in [
            "# a \" quote in a comment\n",
            "s = \"ends with a backslash \\\\\"\n",
        ] {
            let text = format!("{prefix}x = {deep}");
            assert!(check_nesting(&text, 128).is_err(), "{prefix}");
        }
        assert!(check_nesting("a = \"[[[[\" # [[[[\nb = '[[[['\n", 2).is_ok());
    }

    #[test]
    fn deep_manifest_is_refused() {
        let s = format!("x = {}", "[".repeat(20_000));
        assert!(parse_manifest(s.as_bytes(), "Cargo.toml", &Limits::default()).is_err());
    }
}
