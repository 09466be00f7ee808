//! Crate-intrinsic checks: everything that can be said about a `.crate` without its repository.
//!
//! [`check`] runs for every verification, whatever the verdict (`no_repository`,
//! `repository_not_found`, … included), and is all [`inspect`] runs: archive anomalies,
//! `.cargo_vcs_info.json` sanity, the normalized manifest against `Cargo.toml.orig`
//! ([`crate::manifest_check`]), the published `Cargo.lock` ([`crate::lockfile_check`]), and
//! bidirectional-override characters in Rust sources. [`CargoEra`] is the range of cargo
//! versions the crate itself shows could have made it; [`Inventory`] is what a reviewer wants
//! to see first (build script, proc-macro, native and binary files, sizes).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::archive::CrateArchive;
use crate::limits::Limits;
use crate::metadata::{self, VcsInfo};
use crate::report::{CrateId, Finding, Severity};

/// The newest cargo minor version whose rules this library knows (Rust 1.N).
pub const CURRENT_CARGO_MINOR: u32 = crate::rebuild::Rules::CURRENT.cargo_minor;

/// The range of cargo versions (Rust `1.min` – `1.max`) that could have made the crate, with the
/// evidence, inferred from the crate alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoEra {
    /// Oldest possible cargo minor version.
    pub min: u32,
    /// Newest possible cargo minor version.
    pub max: u32,
    /// One lowercase sentence per clue, in the order applied.
    pub evidence: Vec<String>,
}

impl CargoEra {
    fn new() -> CargoEra {
        CargoEra {
            min: 0,
            max: CURRENT_CARGO_MINOR,
            evidence: Vec::new(),
        }
    }

    fn at_least(&mut self, minor: u32, why: &str) {
        self.min = self.min.max(minor);
        self.evidence.push(format!("{why} (cargo ≥ 1.{minor})"));
    }

    fn at_most(&mut self, minor: u32, why: &str) {
        self.max = self.max.min(minor);
        self.evidence.push(format!("{why} (cargo ≤ 1.{minor})"));
    }

    /// Infer the era from the crate: `Cargo.toml.orig` (1.19+), `.cargo_vcs_info.json` and its
    /// shape (1.30+, `path_in_vcs` 1.57+, `dirty` 1.81+), what the normalized manifest shows
    /// (explicit targets and `build = false`, 1.80+), the lock-file format (v3 1.47+, v4 1.78+).
    pub fn of(archive: &CrateArchive, vcs: Option<&VcsInfo>) -> CargoEra {
        let mut e = CargoEra::new();
        let orig = archive.files.get("Cargo.toml.orig");
        if orig.is_some() {
            e.at_least(19, "`Cargo.toml.orig` is present");
        } else {
            e.at_most(18, "no `Cargo.toml.orig`");
        }
        if let Some(v) = vcs {
            e.at_least(30, "`.cargo_vcs_info.json` is present");
            if v.path_in_vcs.is_some() {
                e.at_least(57, "`.cargo_vcs_info.json` has `path_in_vcs`");
            } else {
                e.at_most(56, "`.cargo_vcs_info.json` has no `path_in_vcs`");
            }
            if v.dirty {
                e.at_least(81, "`.cargo_vcs_info.json` has `dirty`");
            }
        }
        let parse = |name: &str| {
            archive
                .files
                .get(name)
                .and_then(|f| metadata::parse_toml_table(&f.data))
        };
        if let (Some(n), Some(o)) = (
            parse("Cargo.toml"),
            orig.and_then(|f| metadata::parse_toml_table(&f.data)),
        ) {
            let key = |t: &toml::Table, k: &str| {
                crate::manifest_check::pkg(t)
                    .and_then(|p| p.get(k))
                    .cloned()
            };
            let autos = ["autobins", "autoexamples", "autotests", "autobenches"];
            if autos
                .iter()
                .all(|k| key(&n, k).and_then(|v| v.as_bool()) == Some(false))
                && autos.iter().any(|k| key(&o, k).is_none())
            {
                e.at_least(80, "the normalized manifest lists its targets explicitly");
            } else if key(&n, "build").and_then(|v| v.as_bool()) == Some(false)
                && key(&o, "build").is_none()
            {
                e.at_least(80, "the normalized manifest says `build = false`");
            }
        }
        if let Some(lock) = parse("Cargo.lock") {
            match lock.get("version").and_then(toml::Value::as_integer) {
                Some(4) => e.at_least(78, "`Cargo.lock` is version 4"),
                Some(3) => e.at_least(47, "`Cargo.lock` is version 3"),
                _ => {}
            }
        }
        e
    }

    /// Whether the clues contradict each other (no cargo version fits all of them).
    pub fn is_consistent(&self) -> bool {
        self.min <= self.max
    }

    /// The serializable form.
    pub fn to_report(&self) -> EraReport {
        EraReport {
            min: format!("1.{}", self.min.min(self.max)),
            max: format!("1.{}", self.max),
            evidence: self.evidence.clone(),
        }
    }
}

/// [`CargoEra`] as it appears in JSON: `{"min": "1.19", "max": "1.56", "evidence": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraReport {
    /// Oldest possible cargo (`"1.N"`).
    pub min: String,
    /// Newest possible cargo (`"1.N"`).
    pub max: String,
    /// The clues, one sentence each.
    pub evidence: Vec<String>,
}

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
/// [`crate::manifest_check`] and [`crate::lockfile_check`]).
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
        out.extend(crate::manifest_check::check_normalized(
            &n.data,
            &o.data,
            &published,
            workspace_deps,
        ));
    }
    if let Some(l) = archive.files.get("Cargo.lock") {
        out.extend(crate::lockfile_check::check_lockfile(
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
        if !is_rust {
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

/// Size and file count of a directory (or of every file of a kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySize {
    /// Package-relative directory (`"."` = the package root's own files).
    pub path: String,
    /// Files under it.
    pub files: u64,
    /// Bytes under it.
    pub bytes: u64,
}

/// One file worth a reviewer's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryFile {
    /// Package-relative path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Why it is listed: `native_library`, `executable_binary`, `object_file`, `wasm`,
    /// `archive`, `binary`, `executable_bit`, `large`, `generated`.
    pub reason: String,
}

/// What a reviewer wants first about a crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Regular files in the archive.
    pub files: u64,
    /// Their total size in bytes.
    pub total_bytes: u64,
    /// The build script cargo would run, if any.
    pub build_script: Option<String>,
    /// `[lib] proc-macro = true`.
    pub proc_macro: bool,
    /// `package.links`, if set.
    pub links: Option<String>,
    /// Native libraries, executables, object files, WebAssembly, archives and other binary
    /// (non-text) files.
    pub binary_files: Vec<InventoryFile>,
    /// Files with an executable bit.
    pub executable_files: Vec<InventoryFile>,
    /// Files larger than 1 MiB.
    pub large_files: Vec<InventoryFile>,
    /// Files that say they are generated (`@generated`, "do not edit", …).
    pub generated_files: Vec<InventoryFile>,
    /// Vendored directories (`vendor/`, `third_party/`, …) with their sizes.
    pub vendored_directories: Vec<DirectorySize>,
    /// Sizes per top-level directory (`"."` = files at the package root).
    pub directories: Vec<DirectorySize>,
}

const LARGE_FILE: u64 = 1024 * 1024;

fn binary_reason(path: &str, data: &[u8], streamed: bool) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    let by_ext = match ext {
        "so" | "dylib" | "dll" | "lib" | "a" => Some("native_library"),
        "exe" | "com" | "bin" | "elf" => Some("executable_binary"),
        "o" | "obj" => Some("object_file"),
        "wasm" => Some("wasm"),
        "zip" | "gz" | "tgz" | "xz" | "bz2" | "zst" | "tar" | "7z" | "jar" | "whl" | "crate" => {
            Some("archive")
        }
        _ => None,
    };
    if by_ext.is_some() {
        return by_ext;
    }
    if lower.contains(".so.") {
        return Some("native_library");
    }
    let head = &data[..data.len().min(8192)];
    if head.starts_with(b"\x7fELF") || head.starts_with(b"MZ") && head.len() > 64 {
        return Some("executable_binary");
    }
    if head.starts_with(b"\0asm") {
        return Some("wasm");
    }
    if !streamed && head.contains(&0) {
        return Some("binary");
    }
    None
}

fn is_generated(data: &[u8]) -> bool {
    let head = &data[..data.len().min(2048)];
    let Ok(text) =
        std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    lower.contains("@generated")
        || lower.contains("do not edit")
        || lower.contains("automatically generated")
        || lower.contains("auto-generated")
        || lower.contains("autogenerated")
}

const VENDOR_DIRS: &[&str] = &[
    "vendor",
    "vendored",
    "third_party",
    "third-party",
    "thirdparty",
];

/// The reviewer's inventory of a crate.
pub fn inventory(archive: &CrateArchive) -> Inventory {
    let normalized = archive
        .files
        .get("Cargo.toml")
        .and_then(|f| metadata::parse_toml_table(&f.data));
    let pkg_key = |k: &str| {
        normalized
            .as_ref()
            .and_then(crate::manifest_check::pkg)
            .and_then(|p| p.get(k))
            .cloned()
    };
    let build_script = match pkg_key("build") {
        Some(toml::Value::String(s)) => Some(s.trim_start_matches("./").replace('\\', "/")),
        Some(toml::Value::Boolean(false)) => None,
        _ => archive
            .files
            .contains_key("build.rs")
            .then(|| "build.rs".to_owned()),
    };
    let proc_macro = normalized
        .as_ref()
        .and_then(|n| n.get("lib"))
        .and_then(toml::Value::as_table)
        .is_some_and(|l| {
            l.get("proc-macro")
                .or_else(|| l.get("proc_macro"))
                .and_then(toml::Value::as_bool)
                == Some(true)
        });
    let links = pkg_key("links").and_then(|v| v.as_str().map(str::to_owned));
    let mut inv = Inventory {
        files: archive.files.len() as u64,
        total_bytes: archive.files.values().map(|f| f.size).sum(),
        build_script,
        proc_macro,
        links,
        binary_files: Vec::new(),
        executable_files: Vec::new(),
        large_files: Vec::new(),
        generated_files: Vec::new(),
        vendored_directories: Vec::new(),
        directories: Vec::new(),
    };
    let mut dirs: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut vendored: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (path, f) in &archive.files {
        let item = |reason: &str| InventoryFile {
            path: path.clone(),
            size: f.size,
            reason: reason.to_owned(),
        };
        if let Some(r) = binary_reason(path, &f.data, f.streamed.is_some()) {
            inv.binary_files.push(item(r));
        }
        if f.mode & 0o111 != 0 {
            inv.executable_files.push(item("executable_bit"));
        }
        if f.size > LARGE_FILE {
            inv.large_files.push(item("large"));
        }
        if !matches!(
            path.as_str(),
            "Cargo.toml" | "Cargo.lock" | ".cargo_vcs_info.json"
        ) && is_generated(&f.data)
        {
            inv.generated_files.push(item("generated"));
        }
        let top = path.split_once('/').map_or(".", |(d, _)| d).to_owned();
        let e = dirs.entry(top).or_default();
        e.0 += 1;
        e.1 += f.size;
        let comps: Vec<&str> = path.split('/').collect();
        if let Some(i) = comps[..comps.len() - 1]
            .iter()
            .position(|c| VENDOR_DIRS.contains(&c.to_ascii_lowercase().as_str()))
        {
            let e = vendored.entry(comps[..=i].join("/")).or_default();
            e.0 += 1;
            e.1 += f.size;
        }
    }
    let sized = |m: BTreeMap<String, (u64, u64)>| {
        m.into_iter()
            .map(|(path, (files, bytes))| DirectorySize { path, files, bytes })
            .collect()
    };
    inv.directories = sized(dirs);
    inv.vendored_directories = sized(vendored);
    inv
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

/// The result of [`inspect`]: a crate examined alone, without its repository. There is no
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

/// Inspect a parsed crate. `sha256` is the hex digest of the `.crate` bytes.
pub fn inspect_archive(
    archive: &CrateArchive,
    sha256: String,
    limits: &Limits,
) -> Result<Inspection, crate::Error> {
    let (name, version, repository) = crate::archive::identity(archive, limits)?;
    let (vcs, vcs_findings) = read_vcs_info(archive, limits);
    let era = CargoEra::of(archive, vcs.as_ref());
    let findings = check(archive, &name, &version, &era, vcs_findings);
    Ok(Inspection {
        schema_version: crate::report::SCHEMA_VERSION,
        kind: "inspect".to_owned(),
        krate: CrateId {
            name,
            version,
            sha256,
        },
        declared: Declared {
            repository,
            commit: vcs.as_ref().map(|v| v.sha1.clone()),
            path_in_vcs: vcs.as_ref().and_then(|v| v.path_in_vcs.clone()),
            dirty: vcs.as_ref().is_some_and(|v| v.dirty),
            vcs_info: archive.files.contains_key(".cargo_vcs_info.json"),
        },
        era: era.to_report(),
        inventory: inventory(archive),
        findings,
    })
}
