//! SARIF 2.1.0 output for code scanning dashboards (`report --format sarif`, `scan --sarif FILE`,
//! `scan --format sarif`, `cargo provenance --sarif FILE`).
//!
//! # Format
//!
//! One run of the tool `crate-provenance`. Its rules are one per verdict except `match`
//! (`verdict/mismatch`, …), `verdict/error` for a failed verification, and one per kind of high
//! finding present in the results (`finding/outside_repository`, …); each rule has a short and
//! full description, help text and a `security-severity`.
//!
//! There is one result per crate version whose verdict the gate denies, or that has a high
//! finding:
//!
//! * its rule is the verdict's when the gate denies the verdict, else the first high finding's;
//! * `level` is `error` when the gate denies the verdict (the crate version fails the gate), else
//!   the rule's level, which follows our severity (high → `error`, medium → `warning`, low and
//!   info → `note`; a verdict's severity is given by [`verdict_severity`]);
//! * a denied verdict that `provenance.toml` exempts keeps its result, with a `suppressions`
//!   entry (`kind` `external`, `status` `accepted`, the exemption's reason as `justification`);
//! * the location is the line of the package's `name = …` in the scanned `Cargo.lock` (or the
//!   line of a `--list` entry, or of the purl in an `--sbom`), relative to the current directory
//!   with `uriBaseId` `%SRCROOT%`; a crate version named by no input file (`--all-versions`) has
//!   only a logical location;
//! * `partialFingerprints."crateVersion/v1"` is `NAME@VERSION`, so dashboards follow a crate
//!   version when lines move.
//!
//! Results are sorted by crate name and version, keys are sorted, and nothing depends on the
//! clock or on the order verifications finished in: the same results give the same bytes.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use provenance_core::{Severity, Verdict};
use serde_json::{Value, json};

use crate::scan::policy::{self, Policy};
use crate::scan::results::{Entry, Outcome};

/// The `$schema` of the documents we write (the OASIS SARIF 2.1.0 schema, errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Where each crate version is named in the scan's input files.
#[derive(Debug, Default)]
pub struct Locations {
    /// `name@version` (name lowercased) → (artifact URI, relative to `%SRCROOT%`?, 1-based line).
    by_key: HashMap<String, (String, bool, u64)>,
}

fn key(name: &str, version: &str) -> String {
    format!("{}@{version}", name.to_ascii_lowercase())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The value of `key = "value"` (a TOML basic string without escapes, as `Cargo.lock` writes).
fn toml_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim();
    rest.strip_prefix('"')?.strip_suffix('"')
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
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

/// Percent-encode a path for a URI (RFC 3986 unreserved characters and `/` stay).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            use std::fmt::Write as _;
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An artifact location for `path`: relative to the current directory when it lies inside it
/// (`uriBaseId` `%SRCROOT%`), else an absolute `file://` URI.
fn artifact(path: &Path) -> (String, bool) {
    let relative = if path.is_relative() {
        Some(path.to_owned())
    } else {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| cwd.canonicalize().ok())
            .zip(path.canonicalize().ok())
            .and_then(|(cwd, p)| p.strip_prefix(&cwd).ok().map(Path::to_owned))
    };
    let parts = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                Component::ParentDir => Some("..".to_owned()),
                _ => None,
            })
            .collect()
    };
    match relative {
        Some(r) => (uri_path(&parts(&r).join("/")), true),
        None => (
            format!("file:///{}", uri_path(&parts(path).join("/"))),
            false,
        ),
    }
}

impl Locations {
    fn insert(&mut self, k: String, artifact: &(String, bool), line: u64) {
        self.by_key
            .entry(k)
            .or_insert_with(|| (artifact.0.clone(), artifact.1, line));
    }

    /// Record where the scan's input files name each crate version (the first place wins).
    pub fn add_inputs(
        &mut self,
        lockfiles: &[PathBuf],
        lists: &[PathBuf],
        sboms: &[PathBuf],
    ) -> Result<(), String> {
        for p in lockfiles {
            self.add_lockfile(p)?;
        }
        for p in lists {
            let a = artifact(p);
            for (i, line) in read(p)?.lines().enumerate() {
                let line = line.split('#').next().unwrap_or_default().trim();
                if let Some((n, v)) = line.split_once('@') {
                    self.insert(key(n, v), &a, i as u64 + 1);
                }
            }
        }
        for p in sboms {
            let a = artifact(p);
            for (i, line) in read(p)?.lines().enumerate() {
                for (at, _) in line.match_indices("pkg:cargo/") {
                    let purl = &line[at + "pkg:cargo/".len()..];
                    let end = purl.find(['"', '?', '#']).unwrap_or(purl.len());
                    if let Some((path, version)) = purl[..end].rsplit_once('@') {
                        let name = path.rsplit('/').next().unwrap_or(path);
                        self.insert(
                            key(&percent_decode(name), &percent_decode(version)),
                            &a,
                            i as u64 + 1,
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// The line of each package's `name = …` in a `Cargo.lock`.
    fn add_lockfile(&mut self, path: &Path) -> Result<(), String> {
        let a = artifact(path);
        let text = read(path)?;
        // (name, its line, version) of the `[[package]]` table being read.
        type Table = Option<(Option<(String, u64)>, Option<String>)>;
        let mut current: Table = None;
        let mut flush = |current: &mut Table| {
            if let Some((Some((name, line)), Some(version))) = current.take() {
                self.insert(key(&name, &version), &a, line);
            }
        };
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                flush(&mut current);
                if t == "[[package]]" {
                    current = Some((None, None));
                }
                continue;
            }
            if let Some((name, version)) = current.as_mut() {
                if let Some(v) = toml_value(t, "name") {
                    *name = Some((v.to_owned(), i as u64 + 1));
                } else if let Some(v) = toml_value(t, "version") {
                    *version = Some(v.to_owned());
                }
            }
        }
        flush(&mut current);
        Ok(())
    }

    fn get(&self, name: &str, version: &str) -> Option<&(String, bool, u64)> {
        self.by_key.get(&key(name, version))
    }
}

/// Our severity of a verdict (the verdicts carry none of their own): `mismatch` and
/// `revision_not_found` are high (the published code differs from, or claims a commit missing
/// from, its repository), `match_but_symlinks` low, the others medium (the source could not be
/// checked).
pub fn verdict_severity(verdict: &str) -> Severity {
    match verdict {
        "mismatch" | "revision_not_found" => Severity::High,
        "match_but_symlinks" => Severity::Low,
        "match" => Severity::Info,
        _ => Severity::Medium,
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity` (0.1–3.9 low, 4–6.9 medium, 7–8.9 high).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

/// (short description, full description, what to do) of a verdict rule.
fn verdict_text(verdict: &str) -> (&'static str, &'static str, &'static str) {
    match verdict {
        "no_repository" => (
            "The crate names no repository",
            "The crate's `Cargo.toml` declares no `package.repository` and no repository was given, so its published files cannot be compared with any source.",
            "Ask the publisher to set `package.repository`, or verify the version against a repository you know (`crate-provenance verify NAME@VERSION --repo URL`). Exempt it in `provenance.toml`, with the reason, once reviewed.",
        ),
        "no_vcs_info" => (
            "The crate has no `.cargo_vcs_info.json`",
            "The `.crate` records no commit: it was published by an old cargo, or with `--allow-dirty` outside a git work tree. The report's `assisted` result tells whether a version tag reproduces it.",
            "Read the `assisted` result of the report (`crate-provenance verify NAME@VERSION`); if a tag reproduces the crate, exempt the version with that as the reason.",
        ),
        "repository_not_found" => (
            "The crate's repository cannot be fetched",
            "The repository named by the crate does not exist, is not a git repository, denies access, could not be reached, or its host was refused by policy.",
            "Check `package.repository` of the crate (moved or renamed repositories are common) and verify against the current location with `--repo URL`.",
        ),
        "revision_not_found" => (
            "The recorded commit is not in the repository",
            "The crate says it was packaged from a commit that its repository does not contain (never pushed, or history rewritten): its source cannot be verified.",
            "Read the report's `assisted` result: a version tag that reproduces the crate makes this benign; otherwise treat the published code as unreviewed.",
        ),
        "path_not_found" => (
            "The package is not at the recorded path",
            "At the recorded commit there is no `Cargo.toml` for this package at `path_in_vcs` (or, without it, in any workspace member).",
            "Verify against the repository the package really comes from, or review the published code.",
        ),
        "package_error" => (
            "The repository's package cannot be packaged",
            "At the recorded commit the package cannot be packaged by cargo's rules (invalid manifest, a `readme` or `license-file` that does not exist, …).",
            "Review the published code; the report names the packaging error.",
        ),
        "submodule_unavailable" => (
            "Differences lie in unavailable submodules",
            "Every difference lies inside git submodules whose commits could not be obtained, so those files could not be compared.",
            "Check the submodules' repositories, or review the files inside them.",
        ),
        "mismatch" => (
            "The published crate differs from its repository",
            "At least one published file differs from what `cargo package` takes from the recorded commit, a file is missing or extra, or the archive holds content that readers can disagree about.",
            "Read the differences (`crate-provenance verify NAME@VERSION` prints every diff) before trusting this version; exempt it in `provenance.toml`, with the reason, once reviewed.",
        ),
        "match_but_symlinks" => (
            "Only symlinks differ",
            "The only differences are files that git stores as symlinks but that were published holding the link's text (or the reverse), as a checkout with `core.symlinks=false` produces.",
            "Usually benign (a Windows publisher); check that the files are the link texts.",
        ),
        _ => (
            "The verification failed",
            "The crate version could not be verified: download, archive, network, limit or internal error. The message names the error kind.",
            "Rerun the scan with `--retry-errors`; persistent `invalid_archive` or `checksum_mismatch` errors deserve a look at the published file.",
        ),
    }
}

/// The description of a high finding kind.
fn finding_text(kind: &str) -> &'static str {
    match kind {
        "repository_unreachable" => {
            "The repository could not be reached (network, DNS, or refused host), so the crate's source could not be compared."
        }
        "outside_repository" => {
            "Published content that cargo read from outside the repository (a symlink or `readme` pointing out of it): it cannot be verified."
        }
        "symlink_escapes_repository" => "A symlink in the repository points outside of it.",
        "duplicate_path" => {
            "The archive holds the same path twice: readers can extract different files."
        }
        "case_collision" => {
            "The archive holds paths that differ only in case: they collide on case-insensitive file systems."
        }
        "trailing_data" => {
            "Data after the end of the tar archive or the gzip member: readers can disagree about the content."
        }
        "unsupported_entry_type" => {
            "The archive holds a symlink, hard link, device or other special entry that cargo never writes."
        }
        "normalized_manifest_diverges" => {
            "The normalized `Cargo.toml` that cargo builds from does not follow from `Cargo.toml.orig`."
        }
        "lockfile_inconsistent" => "The published `Cargo.lock` contradicts the manifest.",
        "malformed_vcs_info" => "`.cargo_vcs_info.json` cannot be read.",
        "repository_not_found" => {
            "The repository named by the crate could not be fetched or opened, so the crate's source could not be compared."
        }
        "path_not_found" => "No `Cargo.toml` of this package at the recorded path and commit.",
        "package_error" => "The repository's package cannot be packaged by cargo's rules.",
        "object_type_mismatch" => "The recorded commit id names an object that is not a commit.",
        "suspicious_codepoints" => {
            "A differing text contains bidirectional or invisible Unicode control characters."
        }
        _ => {
            "A high-severity finding of the verification (see `findings` in the crate version's report)."
        }
    }
}

fn rule(id: &str, name: &str, short: &str, full: &str, help: &str, severity: Severity) -> Value {
    json!({
        "id": id,
        "name": name,
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": {
            "text": format!("{full} {help}"),
            "markdown": format!("{full}\n\n**What to do:** {help}"),
        },
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "tags": ["security", "supply-chain"],
            "precision": "very-high",
            "security-severity": security_severity(severity),
        },
    })
}

fn pascal(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The SARIF document (pretty JSON with a final newline) for `entries` under `policy`.
pub fn render(entries: &[&Entry], policy: &Policy, locations: &Locations) -> String {
    // Rules: every verdict except `match`, then `error`, then the high finding kinds present.
    let mut rule_ids: Vec<String> = Vec::new();
    let mut rules: Vec<Value> = Vec::new();
    let labels = Verdict::ALL
        .iter()
        .filter(|v| **v != Verdict::Match)
        .map(|v| v.as_str())
        .chain([policy::ERROR]);
    for label in labels {
        let (short, full, help) = verdict_text(label);
        let id = format!("verdict/{label}");
        rules.push(rule(
            &id,
            &pascal(label),
            short,
            full,
            help,
            verdict_severity(label),
        ));
        rule_ids.push(id);
    }
    let mut finding_kinds: BTreeSet<&str> = BTreeSet::new();
    for e in entries {
        if let Outcome::Report(r) = &e.outcome {
            for f in r.findings.iter().filter(|f| f.severity == Severity::High) {
                finding_kinds.insert(&f.kind);
            }
        }
    }
    for kind in &finding_kinds {
        let id = format!("finding/{kind}");
        rules.push(rule(
            &id,
            &pascal(kind),
            &format!("High finding `{kind}`"),
            finding_text(kind),
            "Read the crate version's report (`crate-provenance verify NAME@VERSION`).",
            Severity::High,
        ));
        rule_ids.push(id);
    }

    // Results in crate order, whatever order the verifications finished in.
    let mut sorted: Vec<&&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| (e.name.to_ascii_lowercase(), e.version.clone()));
    let mut results = Vec::new();
    for e in sorted {
        let k = e.key();
        let (label, report) = match &e.outcome {
            Outcome::Report(r) => (r.verdict.as_str(), Some(r)),
            Outcome::Error { .. } => (policy::ERROR, None),
        };
        let high: Vec<&provenance_core::Finding> = report
            .map(|r| {
                r.findings
                    .iter()
                    .filter(|f| f.severity == Severity::High)
                    .collect()
            })
            .unwrap_or_default();
        let denied = policy.denies(label);
        if !denied && high.is_empty() {
            continue;
        }
        let exemption = policy.exemption(&k).filter(|_| denied);
        let rule_id = if denied {
            format!("verdict/{label}")
        } else {
            format!("finding/{}", high[0].kind)
        };
        let rule_index = rule_ids
            .iter()
            .position(|r| *r == rule_id)
            .expect("every rule used is listed");
        let rule_level = rules[rule_index]["defaultConfiguration"]["level"].clone();
        let level = if denied && exemption.is_none() {
            Value::from("error")
        } else {
            rule_level
        };
        let gate = match (denied, exemption) {
            (true, None) => "denied by the gate",
            (true, Some(_)) => "denied by the gate, exempt",
            (false, _) => "not denied by the gate",
        };
        let mut text = match &e.outcome {
            Outcome::Report(r) => format!("`{k}`: `{label}` ({gate}): {}.", r.summary),
            Outcome::Error { kind, message } => {
                format!("`{k}`: verification failed ({gate}): {kind}: {message}.")
            }
        };
        if !high.is_empty() {
            text.push_str(" High findings: ");
            text.push_str(
                &high
                    .iter()
                    .map(|f| format!("`{}` ({})", f.kind, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            text.push('.');
        }
        let logical = json!([{ "fullyQualifiedName": k, "kind": "module" }]);
        let location = match locations.get(&e.name, &e.version) {
            Some((uri, relative, line)) => {
                let mut artifact = json!({ "uri": uri });
                if *relative {
                    artifact["uriBaseId"] = Value::from("%SRCROOT%");
                }
                json!({
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": { "startLine": line },
                    },
                    "logicalLocations": logical,
                })
            }
            None => json!({ "logicalLocations": logical }),
        };
        let mut properties = json!({
            "crate": e.name,
            "version": e.version,
            "verdict": label,
            "denied": denied && exemption.is_none(),
        });
        if let Some(r) = report {
            if let Some(repo) = &r.source.repository {
                properties["repository"] = Value::from(repo.as_str());
            }
            if let Some(commit) = &r.source.commit {
                properties["commit"] = Value::from(commit.as_str());
            }
            properties["report-sha256"] = Value::from(crate::attest::report_sha256(r));
        }
        let mut result = json!({
            "ruleId": rule_id,
            "ruleIndex": rule_index,
            "level": level,
            "message": { "text": text },
            "locations": [location],
            "partialFingerprints": { "crateVersion/v1": k },
            "properties": properties,
        });
        if let Some(reason) = exemption {
            result["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": reason,
            }]);
        }
        results.push(result);
    }

    let doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "crate-provenance",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("sarif serializes") + "\n"
}

/// Write a SARIF document to `path` (creating its directory).
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_lines_and_uris() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("Cargo.lock");
        std::fs::write(
            &lock,
            "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"B\"\nversion = \"2.0.0\"\nsource = \"x\"\n\n[metadata]\nname = \"c\"\nversion = \"3.0.0\"\n",
        )
        .unwrap();
        let mut l = Locations::default();
        l.add_inputs(std::slice::from_ref(&lock), &[], &[]).unwrap();
        assert_eq!(l.get("a", "1.0.0").unwrap().2, 4);
        assert_eq!(l.get("b", "2.0.0").unwrap().2, 8);
        assert!(l.get("c", "3.0.0").is_none());
        let (uri, relative, _) = l.get("a", "1.0.0").unwrap();
        assert!(
            !relative,
            "a temporary directory is not below the test's directory"
        );
        assert!(
            uri.starts_with("file:///") && uri.ends_with("/Cargo.lock"),
            "{uri}"
        );
        assert_eq!(
            artifact(Path::new("./ws dir/Cargo.lock")),
            ("ws%20dir/Cargo.lock".to_owned(), true)
        );
    }

    #[test]
    fn sbom_purls_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let sbom = dir.path().join("s.json");
        std::fs::write(
            &sbom,
            "{\n \"components\": [\n  {\"purl\": \"pkg:cargo/x@1.0.0%2Bm?repository_url=y\"}\n ]\n}\n",
        )
        .unwrap();
        let mut l = Locations::default();
        l.add_inputs(&[], &[], std::slice::from_ref(&sbom)).unwrap();
        assert_eq!(l.get("x", "1.0.0+m").unwrap().2, 3);
    }
}
