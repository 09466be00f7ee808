//! Crate-intrinsic checks: everything that can be said about a `.crate` without its repository.
//!
//! [`check`] runs for every verification, whatever the verdict (`no_repository`,
//! `repository_not_found`, … included), and is all [`inspect`](crate::inspect) runs: archive
//! anomalies, `.cargo_vcs_info.json` sanity, the normalized manifest against `Cargo.toml.orig`
//! ([`manifest_check`](super::manifest_check)), the published `Cargo.lock`
//! ([`lockfile_check`](super::lockfile_check)), and bidirectional-override characters in Rust
//! sources. [`CargoEra`] is the range of cargo versions the crate itself shows could have made
//! it; [`Inventory`] is what a reviewer wants to see first (build script, proc-macro, native and
//! binary files, sizes).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::era::{CargoEra, EraReport};
use super::inventory::Inventory;
use crate::archive::CrateArchive;
use crate::limits::Limits;
use crate::metadata::{self, VcsInfo};
use crate::report::{CrateId, Finding, Severity};

/// Read `.cargo_vcs_info.json`: the parsed value, or a `malformed_vcs_info` finding.
pub fn read_vcs_info(archive: &CrateArchive, limits: &Limits) -> (Option<VcsInfo>, Vec<Finding>) {
    let mut findings = Vec::new();
    let vcs = match archive.files.get(".cargo_vcs_info.json") {
        None => None,
        Some(f) if !f.retained() => {
            findings.push(Finding::new(
                "malformed_vcs_info",
                Severity::High,
                format!(
                    "limit `max_vcs_info_bytes` exceeded: {} > {}",
                    f.size, limits.max_vcs_info_bytes
                ),
            ));
            None
        }
        Some(f) => match metadata::parse_vcs_info(&f.data, limits) {
            Ok(v) => Some(v),
            Err(e) => {
                findings.push(Finding::new(
                    "malformed_vcs_info",
                    Severity::High,
                    e.to_string(),
                ));
                None
            }
        },
    };
    if vcs.as_ref().is_some_and(|v| v.dirty) {
        findings.push(Finding::new(
            "publisher_declared_dirty",
            Severity::Medium,
            "`.cargo_vcs_info.json` says the work tree was dirty when the crate was published",
        ));
    }
    (vcs, findings)
}

/// Finding kinds that [`generated_file_findings`] produces (replaced when a repository makes
/// `[workspace.dependencies]` known).
pub const GENERATED_FILE_KINDS: &[&str] = &[
    "normalized_manifest_diverges",
    "non_normalized_manifest",
    "lockfile_inconsistent",
    "lockfile_unparsable",
    "lockfile_dangling_dependency",
    "lockfile_without_package",
];

/// Semantic checks of the generated `Cargo.toml` and `Cargo.lock` (see
/// [`manifest_check`](super::manifest_check) and [`lockfile_check`](super::lockfile_check)).
pub fn generated_file_findings(
    archive: &CrateArchive,
    name: &str,
    version: &str,
    workspace_deps: Option<&toml::Table>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let published: BTreeSet<&str> = archive.files.keys().map(String::as_str).collect();
    let Some(n) = archive.files.get("Cargo.toml") else {
        return out;
    };
    let orig = archive.files.get("Cargo.toml.orig");
    if let Some(o) = orig {
        out.extend(super::manifest_check::check_normalized(
            &n.data,
            &o.data,
            &published,
            workspace_deps,
        ));
    }
    if let Some(l) = archive.files.get("Cargo.lock") {
        out.extend(super::lockfile_check::check_lockfile(
            &l.data,
            &n.data,
            orig.map(|o| o.data.as_slice()),
            name,
            version,
        ));
    }
    out
}

/// Bidirectional override and isolate characters (Trojan Source, CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Raw bidirectional controls in Rust sources: code that reads differently than it compiles.
fn codepoint_findings(archive: &CrateArchive) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, f) in &archive.files {
        // Case-insensitively: on a case-insensitive file system `mod x;` compiles `x.RS`.
        let is_rust = path
            .as_bytes()
            .get(path.len().saturating_sub(3)..)
            .is_some_and(|ext| ext.eq_ignore_ascii_case(b".rs"));
        // Every bidi control is encoded as 0xE2 0x80/0x81 …: a file without 0xE2 has none
        // (a fast byte search instead of decoding every character).
        if !is_rust || !f.data.contains(&0xE2) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&f.data) else {
            continue;
        };
        if let Some(c) = text.chars().find(|c| is_bidi_control(*c)) {
            out.push(
                Finding::new(
                    "suspicious_codepoints",
                    Severity::High,
                    format!(
                        "the rust source contains a raw bidirectional control character (first: U+{:04X}) that can make code read differently than it compiles",
                        u32::from(c)
                    ),
                )
                .with_path(path.clone()),
            );
        }
    }
    out
}

/// Every crate-intrinsic finding: archive anomalies, `.cargo_vcs_info.json` sanity, the
/// generated files, suspicious code points. `vcs_findings` come from [`read_vcs_info`].
pub fn check(
    archive: &CrateArchive,
    name: &str,
    version: &str,
    era: &CargoEra,
    vcs_findings: Vec<Finding>,
) -> Vec<Finding> {
    let mut out = vcs_findings;
    out.extend(
        archive
            .anomalies
            .iter()
            .map(crate::archive::Anomaly::to_finding),
    );
    if !era.is_consistent() {
        out.push(Finding::new(
            "era_inconsistent",
            Severity::Low,
            format!(
                "no cargo version fits every clue in the crate ({}); it was probably not packaged by cargo",
                era.evidence.join("; ")
            ),
        ));
    }
    out.extend(generated_file_findings(archive, name, version, None));
    out.extend(codepoint_findings(archive));
    out.sort();
    out.dedup();
    out
}

/// What the crate declares about its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    /// `package.repository`, if any.
    pub repository: Option<String>,
    /// `git.sha1` from `.cargo_vcs_info.json`, if any.
    pub commit: Option<String>,
    /// `path_in_vcs`, if recorded.
    pub path_in_vcs: Option<String>,
    /// `git.dirty`.
    pub dirty: bool,
    /// Whether the crate has a `.cargo_vcs_info.json` at all.
    pub vcs_info: bool,
}

/// The result of [`inspect`](crate::inspect): a crate examined alone, without its repository. There is no
/// verdict; `findings` holds every crate-intrinsic finding.
///
/// JSON (`--format json`, Python `Inspection.to_json()`, C `prov_report_json`): the schema is
/// `schema/inspect.v1.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// Always [`crate::report::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"inspect"` (tells an inspection from a verification report).
    pub kind: String,
    /// The crate.
    #[serde(rename = "crate")]
    pub krate: CrateId,
    /// What the crate says about where it comes from.
    pub declared: Declared,
    /// Which cargo could have made it.
    pub era: EraReport,
    /// What it holds.
    pub inventory: Inventory,
    /// Crate-intrinsic findings, sorted.
    pub findings: Vec<Finding>,
}

impl Inspection {
    /// The inspection as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("inspection serialization cannot fail")
    }

    /// The highest severity among the findings, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Whether a finding is `high` (the CLI exits 1).
    pub fn has_high(&self) -> bool {
        self.max_severity() == Some(Severity::High)
    }
}
