//! What to scan: `Cargo.lock`, a `NAME@VERSION` list, a CycloneDX or SPDX JSON SBOM (`pkg:cargo/`
//! purls), every version of a crate in the registry index, or its latest version.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

/// The crates.io index, in both of the forms `Cargo.lock` uses.
const CRATES_IO: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// A crate version to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Crate name.
    pub name: String,
    /// Exact version.
    pub version: String,
}

impl Target {
    /// `NAME@VERSION`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// A package the inputs name but that is not verified, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Package name (or the purl / component name when there is no name).
    pub name: String,
    /// Version, when known.
    pub version: String,
    /// Why it is not verified.
    pub reason: String,
}

/// Everything the inputs name.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Registry crate versions to verify, without duplicates, in input order.
    pub targets: Vec<Target>,
    /// Packages that are not verified.
    pub skipped: Vec<Skipped>,
    seen: HashSet<String>,
}

impl Inputs {
    /// Add one crate version (a duplicate of an earlier one is ignored).
    pub fn push(&mut self, name: &str, version: &str) {
        let t = Target {
            name: name.to_owned(),
            version: version.to_owned(),
        };
        if self.seen.insert(t.key()) {
            self.targets.push(t);
        }
    }

    /// Record a package that is not verified, and why.
    pub fn skip(&mut self, name: &str, version: &str, reason: String) {
        let s = Skipped {
            name: name.to_owned(),
            version: version.to_owned(),
            reason,
        };
        if !self.skipped.contains(&s) {
            self.skipped.push(s);
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

fn same_index(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.strip_prefix("sparse+")
            .or_else(|| s.strip_prefix("registry+"))
            .unwrap_or(s)
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    norm(a) == norm(b)
}

/// Whether a registry source (`registry+…` / `sparse+…` / a purl `repository_url`) is served
/// by the index this scan downloads from: crates.io (which `--index-url` may mirror) or the
/// `--index-url` itself.
fn scanned_registry(source: &str, index_url: Option<&str>) -> bool {
    CRATES_IO.iter().any(|c| same_index(c, source))
        || index_url.is_some_and(|i| same_index(i, source))
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
}

/// Add the registry packages of a `Cargo.lock`; git and path packages are skipped.
pub fn lockfile(inputs: &mut Inputs, path: &Path, index_url: Option<&str>) -> Result<(), String> {
    let lock: Lock = toml::from_str(&read(path)?)
        .map_err(|e| format!("`{}` is not a `Cargo.lock`: {e}", path.display()))?;
    for p in lock.package {
        match p.source.as_deref() {
            None => inputs.skip(
                &p.name,
                &p.version,
                "path or workspace package (no registry source)".into(),
            ),
            Some(s) if s.starts_with("git+") => inputs.skip(
                &p.name,
                &p.version,
                format!("git dependency (`{}`)", s.split('#').next().unwrap_or(s)),
            ),
            Some(s) if scanned_registry(s, index_url) => inputs.push(&p.name, &p.version),
            Some(s) if s.starts_with("registry+") || s.starts_with("sparse+") => inputs.skip(
                &p.name,
                &p.version,
                format!("other registry (`{s}`); scan it with `--index-url`"),
            ),
            Some(s) => inputs.skip(&p.name, &p.version, format!("unknown source `{s}`")),
        }
    }
    Ok(())
}

/// Whether `name` can be a crate name and `version` a version (the registry checks exactly).
fn plausible(name: &str, version: &str) -> bool {
    let ok = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s.len() <= 150
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    ok(name, b"-_") && ok(version, b".-+")
}

/// Add one `NAME@VERSION` (as a list line holds it).
pub fn spec(inputs: &mut Inputs, spec: &str) -> Result<(), String> {
    match spec.trim().split_once('@') {
        Some((n, v)) if plausible(n, v) => {
            inputs.push(n, v);
            Ok(())
        }
        _ => Err(format!(
            "expected `NAME@VERSION`, got `{}`",
            spec.escape_debug()
        )),
    }
}

/// Add a `NAME@VERSION` list (one per line; blank lines and `#` comments are ignored).
pub fn list(inputs: &mut Inputs, path: &Path) -> Result<(), String> {
    for (i, line) in read(path)?.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once('@') {
            Some((n, v)) if plausible(n, v) => inputs.push(n, v),
            _ => {
                return Err(format!(
                    "line {} of `{}`: expected `NAME@VERSION`, got `{}`",
                    i + 1,
                    path.display(),
                    line.escape_debug()
                ));
            }
        }
    }
    Ok(())
}

/// A parsed package URL (<https://github.com/package-url/purl-spec>).
#[derive(Debug, PartialEq, Eq)]
struct Purl {
    kind: String,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_purl(s: &str) -> Option<Purl> {
    let rest = s.strip_prefix("pkg:")?.trim_start_matches('/');
    let rest = rest.split('#').next().unwrap_or_default();
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (kind, path) = rest.split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) => (p, Some(percent_decode(v))),
        None => (path, None),
    };
    let name = percent_decode(path.trim_end_matches('/').rsplit('/').next()?);
    let qualifiers = query
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default();
    Some(Purl {
        kind: kind.to_ascii_lowercase(),
        name,
        version,
        qualifiers,
    })
}

fn add_purl(inputs: &mut Inputs, label: &str, purl: Option<&str>, index_url: Option<&str>) {
    let Some(raw) = purl else {
        inputs.skip(label, "", "no purl".into());
        return;
    };
    let Some(p) = parse_purl(raw) else {
        inputs.skip(
            label,
            "",
            format!("unreadable purl `{}`", raw.escape_debug()),
        );
        return;
    };
    let version = p.version.clone().unwrap_or_default();
    if p.kind != "cargo" {
        inputs.skip(
            &p.name,
            &version,
            format!("`pkg:{}` is not a cargo package", p.kind),
        );
        return;
    }
    if version.is_empty() {
        inputs.skip(&p.name, "", "purl without a version".into());
        return;
    }
    let q = |k: &str| p.qualifiers.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    if let Some(vcs) = q("vcs_url") {
        inputs.skip(&p.name, &version, format!("git dependency (`{vcs}`)"));
    } else if q("download_url").is_some_and(|d| d.starts_with("file:")) {
        inputs.skip(
            &p.name,
            &version,
            "path or workspace package (no registry source)".into(),
        );
    } else if let Some(r) = q("repository_url").filter(|r| !scanned_registry(r, index_url)) {
        inputs.skip(
            &p.name,
            &version,
            format!("other registry (`{r}`); scan it with `--index-url`"),
        );
    } else if plausible(&p.name, &version) {
        inputs.push(&p.name, &version);
    } else {
        inputs.skip(
            &p.name,
            &version,
            "not a valid crate name and version".into(),
        );
    }
}

fn cyclonedx_components(
    inputs: &mut Inputs,
    components: &serde_json::Value,
    index_url: Option<&str>,
) {
    for c in components.as_array().into_iter().flatten() {
        let label = c
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("(unnamed component)");
        add_purl(
            inputs,
            label,
            c.get("purl").and_then(serde_json::Value::as_str),
            index_url,
        );
        if let Some(nested) = c.get("components") {
            cyclonedx_components(inputs, nested, index_url);
        }
    }
}

/// Add the `pkg:cargo/` packages of a CycloneDX JSON or SPDX JSON SBOM.
pub fn sbom(inputs: &mut Inputs, path: &Path, index_url: Option<&str>) -> Result<(), String> {
    let doc: serde_json::Value = serde_json::from_str(&read(path)?)
        .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))?;
    if doc.get("bomFormat").and_then(serde_json::Value::as_str) == Some("CycloneDX") {
        if let Some(root) = doc.get("metadata").and_then(|m| m.get("component")) {
            cyclonedx_components(
                inputs,
                &serde_json::Value::Array(vec![root.clone()]),
                index_url,
            );
        }
        if let Some(c) = doc.get("components") {
            cyclonedx_components(inputs, c, index_url);
        }
        Ok(())
    } else if doc.get("spdxVersion").is_some() {
        for p in doc
            .get("packages")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            let label = p
                .get("name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("(unnamed package)");
            let purl = p
                .get("externalRefs")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| {
                    r.get("referenceType").and_then(serde_json::Value::as_str) == Some("purl")
                })
                .and_then(|r| r.get("referenceLocator"))
                .and_then(serde_json::Value::as_str);
            add_purl(inputs, label, purl, index_url);
        }
        Ok(())
    } else {
        Err(format!(
            "`{}` is neither a CycloneDX JSON (`bomFormat`) nor an SPDX JSON (`spdxVersion`) document",
            path.display()
        ))
    }
}

/// Which versions of a crate the registry index gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Only the greatest version (by semantic-version precedence; a pre-release only when
    /// there is no release).
    pub latest_only: bool,
    /// Yanked versions too.
    pub include_yanked: bool,
}

impl Selection {
    /// Every version, yanked ones too (`scan --all-versions`).
    pub const ALL: Selection = Selection {
        latest_only: false,
        include_yanked: true,
    };
}

/// Semantic-version precedence key of `v` (build metadata ignored; a non-numeric core part
/// counts as 0): `precedence(a) < precedence(b)` when `a` is older. Also used by `watch` to
/// pick the newest version of an index answer.
pub fn precedence(v: &str) -> (Vec<u64>, bool, Vec<(bool, u64, String)>) {
    let core_pre = v.split('+').next().unwrap_or_default();
    let (core, pre) = match core_pre.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core_pre, None),
    };
    let nums = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let Some(pre) = pre.filter(|p| !p.is_empty()) else {
        return (nums, true, Vec::new());
    };
    let ids = pre
        .split('.')
        .map(|p| match p.parse::<u64>() {
            Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => (false, n, String::new()),
            _ => (true, 0, p.to_owned()),
        })
        .collect();
    (nums, false, ids)
}

/// The versions of `name` the index lists, chosen by `selection`, in index order (`Err` when
/// the index cannot be read or does not know `name`).
pub fn index_versions(
    name: &str,
    selection: Selection,
    options: &crate::request::Options,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Vec<Target>, crate::request::Error> {
    use crate::fetch;
    let fopts = fetch::Options::from_verify(options);
    let cache = fopts.cache()?;
    let lines = fetch::Registry::new(options.index_url.as_deref(), &fopts)?.versions(
        &cache,
        name,
        &mut crate::progress::Discard,
        stop,
    )?;
    let mut chosen: Vec<Target> = lines
        .into_iter()
        .filter(|l| selection.include_yanked || !l.yanked)
        .map(|l| Target {
            name: l.name,
            version: l.vers,
        })
        .collect();
    if selection.latest_only && !chosen.is_empty() {
        let release = |t: &Target| {
            !t.version
                .split('+')
                .next()
                .unwrap_or_default()
                .contains('-')
        };
        let pool: Vec<&Target> = if chosen.iter().any(release) {
            chosen.iter().filter(|t| release(t)).collect()
        } else {
            chosen.iter().collect()
        };
        let best = pool
            .into_iter()
            .max_by(|a, b| precedence(&a.version).cmp(&precedence(&b.version)))
            .cloned()
            .expect("not empty");
        chosen = vec![best];
    }
    Ok(chosen)
}

/// Add every version of `name` in the index (yanked versions too).
pub fn all_versions(
    inputs: &mut Inputs,
    name: &str,
    options: &crate::request::Options,
) -> Result<(), String> {
    select(inputs, name, Selection::ALL, options)
}

/// Add the versions of `name` that `selection` chooses from the index.
pub fn select(
    inputs: &mut Inputs,
    name: &str,
    selection: Selection,
    options: &crate::request::Options,
) -> Result<(), String> {
    let versions = index_versions(
        name,
        selection,
        options,
        &std::sync::atomic::AtomicBool::new(false),
    )
    .map_err(|e| format!("cannot list the versions of `{name}`: {e}"))?;
    if versions.is_empty() {
        return Err(format!("the index has no versions of `{name}`"));
    }
    for v in versions {
        inputs.push(&v.name, &v.version);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        let p = parse_purl(
            "pkg:cargo/serde@1.0.0%2Bmeta?repository_url=x&vcs_url=git%2Bhttps%3A%2F%2Fa",
        )
        .unwrap();
        assert_eq!(p.kind, "cargo");
        assert_eq!(p.name, "serde");
        assert_eq!(p.version.as_deref(), Some("1.0.0+meta"));
        assert_eq!(p.qualifiers[1], ("vcs_url".into(), "git+https://a".into()));
        assert_eq!(parse_purl("pkg:npm/%40scope/x@1").unwrap().name, "x");
        assert!(parse_purl("cargo/serde@1").is_none());
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn version_precedence() {
        let mut v = vec![
            "1.0.0-alpha.beta",
            "1.0.0",
            "1.0.0-rc.1",
            "1.0.0-alpha",
            "0.9.10",
            "1.0.0-beta.11",
            "1.0.0-alpha.1",
            "1.0.0-beta.2",
            "1.0.0-beta",
            "0.9.9+build",
        ];
        v.sort_by_key(|s| precedence(s));
        assert_eq!(
            v,
            [
                "0.9.9+build",
                "0.9.10",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
            ]
        );
    }
}
