//! Semantic check of the normalized `Cargo.toml` against `Cargo.toml.orig`: is it something a
//! cargo of the crate's era generates from `.orig` (plus workspace inheritance)?
//!
//! Cargo builds a downloaded crate from its *normalized* `Cargo.toml`, never from
//! `Cargo.toml.orig`; a hand-edited normalized manifest (an added dependency, a build script, a
//! proc-macro flag, a library path pointing at another file) launders code even when `.orig`
//! matches the repository (shared/SECURITY.md M7). Mirrors `prepare_for_publish` in cargo's
//! `src/cargo/util/toml/mod.rs` across its history:
//!
//! | cargo | what normalization does that `.orig` does not show |
//! |---|---|
//! | 1.19+ | `[workspace]`, `[patch]`, `[replace]` removed; `path`/`git` keys removed from dependencies |
//! | 1.40+ | dev-dependencies without a `version` removed (PR #7333) |
//! | 1.64+ | `workspace = true` fields and dependencies resolved from the workspace root |
//! | 1.78+ | feature entries pointing at removed dev-dependencies removed (`x = ["dev/f"]` → `x = []`, PR #13518) |
//! | 1.79+ | target paths written with `/` |
//! | 1.80+ | every target listed explicitly (`autobins = false`, …, auto-discovered ones added, unpackaged ones dropped), `build = false` or the detected `build.rs` written (PR #13713) |
//!
//! Before 1.80 explicit `[[bin]]`, `[[example]]`, `[[test]]` and `[[bench]]` entries were copied
//! verbatim even when their files were not packaged (log 0.4.22, textwrap 0.15.2, syn 0.15.18):
//! a target whose file is missing is never suspicious by itself — it can only fail to build.
//! What no cargo produces, and what is flagged: a dependency, requirement, rename, feature,
//! `build`, `links`, `proc-macro` or target path in the normalized manifest that `.orig` (and the
//! workspace, when known) does not explain.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Finding, Severity};

type Table = toml::Table;

const DEP_TABLES: &[&str] = &["dependencies", "build-dependencies", "dev-dependencies"];

/// Every dependency table of a manifest: `(table label, table)`, including the `_` spellings and
/// every `[target.'cfg(..)'.*]` table.
pub(crate) fn dep_tables(t: &Table) -> Vec<(String, &Table)> {
    fn push<'a>(out: &mut Vec<(String, &'a Table)>, prefix: &str, t: &'a Table) {
        for k in DEP_TABLES {
            for spelling in [(*k).to_owned(), k.replace('-', "_")] {
                if let Some(d) = t.get(&spelling).and_then(toml::Value::as_table) {
                    out.push((format!("{prefix}{k}"), d));
                }
                if !k.contains('-') {
                    break;
                }
            }
        }
    }
    let mut out = Vec::new();
    push(&mut out, "", t);
    if let Some(targets) = t.get("target").and_then(toml::Value::as_table) {
        for (cfg, v) in targets {
            if let Some(tt) = v.as_table() {
                push(&mut out, &format!("target.{cfg}."), tt);
            }
        }
    }
    out
}

/// One declared dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dep {
    /// The version requirement, if written literally.
    pub version: Option<String>,
    /// `workspace = true`.
    pub inherited: bool,
    /// Only a `path` or `git` source, no version: cargo drops it from dev-dependencies.
    pub registry_less: bool,
    /// `package = "…"` (a renamed dependency), if written.
    pub package: Option<String>,
}

/// `(table, dependency key)` → [`Dep`].
pub(crate) fn deps(t: &Table) -> BTreeMap<(String, String), Dep> {
    let mut out = BTreeMap::new();
    for (table, d) in dep_tables(t) {
        for (name, spec) in d {
            let dep = match spec {
                toml::Value::String(v) => Dep {
                    version: Some(v.clone()),
                    inherited: false,
                    registry_less: false,
                    package: None,
                },
                toml::Value::Table(s) => Dep {
                    version: s
                        .get("version")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned),
                    inherited: s.get("workspace").and_then(toml::Value::as_bool) == Some(true),
                    registry_less: s.get("version").is_none()
                        && s.get("workspace").is_none()
                        && (s.contains_key("path") || s.contains_key("git")),
                    package: s
                        .get("package")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned),
                },
                _ => continue,
            };
            out.insert((table.clone(), name.clone()), dep);
        }
    }
    out
}

pub(crate) fn pkg(t: &Table) -> Option<&Table> {
    t.get("package")
        .or_else(|| t.get("project"))
        .and_then(toml::Value::as_table)
}

fn lib_flag(t: &Table) -> bool {
    t.get("lib")
        .and_then(toml::Value::as_table)
        .is_some_and(|l| {
            l.get("proc-macro")
                .or_else(|| l.get("proc_macro"))
                .and_then(toml::Value::as_bool)
                == Some(true)
        })
}

/// `./src\lib.rs` → `src/lib.rs`.
fn norm_path(p: &str) -> String {
    let p = p.replace('\\', "/");
    let mut s = p.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_owned()
}

/// One target (`[lib]`, `[[bin]]`, …) as a manifest declares it.
#[derive(Debug, Clone)]
struct Target {
    kind: &'static str,
    name: Option<String>,
    path: Option<String>,
}

fn targets(t: &Table) -> Vec<Target> {
    let mut out = Vec::new();
    if let Some(l) = t.get("lib").and_then(toml::Value::as_table) {
        out.push(Target {
            kind: "lib",
            name: l
                .get("name")
                .and_then(toml::Value::as_str)
                .map(str::to_owned),
            path: l.get("path").and_then(toml::Value::as_str).map(norm_path),
        });
    }
    for kind in ["bin", "example", "test", "bench"] {
        if let Some(arr) = t.get(kind).and_then(toml::Value::as_array) {
            for v in arr.iter().filter_map(toml::Value::as_table) {
                out.push(Target {
                    kind,
                    name: v
                        .get("name")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned),
                    path: v.get("path").and_then(toml::Value::as_str).map(norm_path),
                });
            }
        }
    }
    out
}

/// The paths cargo's target auto-discovery (and the default target paths) can give a target of
/// `kind` named `name` (`None`: any name). Cargo ≥ 1.80 writes these explicitly.
fn discoverable(kind: &str, name: Option<&str>, path: &str, package: &str) -> bool {
    let dir = match kind {
        "lib" => return path == "src/lib.rs",
        "bin" => {
            if path == "src/main.rs" {
                return true;
            }
            "src/bin"
        }
        "example" => "examples",
        "test" => "tests",
        "bench" => "benches",
        _ => return false,
    };
    let Some(rest) = path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    let stem = if let Some(s) = rest.strip_suffix("/main.rs") {
        s
    } else if let Some(s) = rest.strip_suffix(".rs") {
        s
    } else {
        return false;
    };
    if stem.is_empty() || stem.contains('/') {
        return false;
    }
    // A discovered target's name is its file stem (or directory), with the package name for
    // `src/main.rs`; cargo does not rename them.
    name.is_none_or(|n| n == stem || (kind == "bin" && n == package))
}

/// Does `entry` (a feature list item) refer to dependency `dep`?
fn feature_refers_to(entry: &str, dep: &str) -> bool {
    let entry = entry.strip_prefix("dep:").unwrap_or(entry);
    let base = entry.split('/').next().unwrap_or(entry);
    base.trim_end_matches('?') == dep
}

/// What [`check_normalized`] knows besides the two manifests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// `[workspace.dependencies]` of the workspace root at the commit, when a repository was read.
    pub workspace_deps: Option<&'a Table>,
}

/// Check the normalized manifest against `.orig`. `published` is the set of files in the crate.
/// `workspace_deps` are `[workspace.dependencies]` of the workspace root at the commit, when known.
pub fn check_normalized(
    normalized: &[u8],
    orig: &[u8],
    published: &BTreeSet<&str>,
    workspace_deps: Option<&Table>,
) -> Vec<Finding> {
    check_normalized_with(normalized, orig, published, Context { workspace_deps })
}

/// [`check_normalized`] with a [`Context`].
pub fn check_normalized_with(
    normalized: &[u8],
    orig: &[u8],
    published: &BTreeSet<&str>,
    cx: Context<'_>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parse = crate::metadata::parse_toml_table;
    let (Some(n), Some(o)) = (parse(normalized), parse(orig)) else {
        return findings;
    };
    if let Some(f) = leftovers(&n) {
        findings.push(f);
    }
    let mut diverging: Vec<String> = Vec::new();
    let dropped = check_dependencies(&n, &o, cx, &mut diverging);
    check_features(&n, &o, &dropped, &mut diverging);
    let links = |t: &Table| pkg(t).and_then(|p| p.get("links")).cloned();
    if links(&n) != links(&o) {
        diverging.push("package.links".to_owned());
    }
    if lib_flag(&n) != lib_flag(&o) {
        diverging.push("lib.proc-macro".to_owned());
    }
    check_build(&n, &o, published, &mut diverging);
    check_targets(&n, &o, published, &mut diverging);
    if !diverging.is_empty() {
        findings.push(Finding::new(
            "normalized_manifest_diverges",
            Severity::High,
            format!(
                "the normalized `Cargo.toml` (what cargo builds from) is not what any cargo generates from `Cargo.toml.orig`: {}",
                diverging.join(", ")
            ),
        ).with_path("Cargo.toml"));
    }
    findings
}

/// Keys cargo always removes.
fn leftovers(n: &Table) -> Option<Finding> {
    let mut leftovers: Vec<&str> = ["patch", "replace", "workspace"]
        .into_iter()
        .filter(|k| n.contains_key(*k))
        .collect();
    if pkg(n).is_some_and(|p| {
        p.values()
            .any(|v| v.as_table().is_some_and(|t| t.contains_key("workspace")))
    }) {
        leftovers.push("package.*.workspace");
    }
    if leftovers.is_empty() {
        return None;
    }
    Some(Finding::new(
        "non_normalized_manifest",
        Severity::Medium,
        format!(
            "the normalized `Cargo.toml` still has {}, which cargo removes when packaging",
            leftovers
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// Every normalized dependency must come from `.orig` with the same requirement and package;
/// normal and build dependencies cannot disappear (dev-dependencies without a version can).
/// Returns the dependency keys cargo dropped.
fn check_dependencies(
    n: &Table,
    o: &Table,
    cx: Context<'_>,
    diverging: &mut Vec<String>,
) -> BTreeSet<String> {
    let nd = deps(n);
    let od = deps(o);
    let ws = |name: &str| cx.workspace_deps.and_then(|w| w.get(name));
    for ((table, name), dep) in &nd {
        let Some(orig_dep) = od.get(&(table.clone(), name.clone())) else {
            diverging.push(format!("{table}.{name} (not in `Cargo.toml.orig`)"));
            continue;
        };
        let (want_version, want_package) = if orig_dep.inherited {
            match ws(name) {
                Some(toml::Value::String(v)) => (Some(v.clone()), None),
                Some(toml::Value::Table(t)) => (
                    t.get("version")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned),
                    t.get("package")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| orig_dep.package.clone()),
                ),
                // Workspace unknown (no repository): the resolved values cannot be checked.
                _ => (None, dep.package.clone()),
            }
        } else {
            (orig_dep.version.clone(), orig_dep.package.clone())
        };
        if let (Some(w), Some(have)) = (&want_version, &dep.version)
            && w.trim() != have.trim()
        {
            diverging.push(format!(
                "{table}.{name} (version `{have}`, `.orig` says `{w}`)"
            ));
        }
        if dep.package != want_package {
            diverging.push(format!(
                "{table}.{name} (package `{}`, `.orig` says `{}`)",
                dep.package.as_deref().unwrap_or(name),
                want_package.as_deref().unwrap_or(name)
            ));
        }
    }
    let mut dropped = BTreeSet::new();
    for ((table, name), dep) in &od {
        if nd.contains_key(&(table.clone(), name.clone())) {
            continue;
        }
        if table.ends_with("dev-dependencies") {
            // Cargo ≥ 1.40 drops version-less dev-dependencies; a dev-dependency never reaches
            // a dependent's build, so any dropped one is harmless.
            dropped.insert(name.clone());
        } else if !dep.registry_less {
            diverging.push(format!("{table}.{name} (dropped)"));
        } else {
            dropped.insert(name.clone());
        }
    }
    // A key dropped from one table but still declared in another is not gone.
    for (_, name) in nd.keys() {
        dropped.remove(name);
    }
    dropped
}

/// Features are copied verbatim, except that cargo ≥ 1.78 removes entries that point at
/// dependencies it dropped (objc2 0.6.4: `x = ["dev-dep/feat"]` → `x = []`). A feature missing
/// from the normalized manifest enables less, never more, so it is not flagged.
fn check_features(n: &Table, o: &Table, dropped: &BTreeSet<String>, diverging: &mut Vec<String>) {
    let empty = Table::new();
    let nf = n
        .get("features")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);
    let of = o
        .get("features")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);
    if n.get("features").is_some_and(|f| !f.is_table()) {
        diverging.push("features".to_owned());
        return;
    }
    let strings = |v: &toml::Value| -> Option<Vec<String>> {
        v.as_array().map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect()
        })
    };
    for (feature, value) in nf {
        let Some(have) = strings(value) else {
            diverging.push(format!("features.{feature}"));
            continue;
        };
        let Some(want) = of.get(feature).and_then(strings) else {
            diverging.push(format!("features.{feature} (not in `Cargo.toml.orig`)"));
            continue;
        };
        let stripped: Vec<String> = want
            .iter()
            .filter(|e| !dropped.iter().any(|d| feature_refers_to(e, d)))
            .cloned()
            .collect();
        if have != want && have != stripped {
            diverging.push(format!("features.{feature}"));
        }
    }
}

/// An explicit normalized `build` must come from `.orig`, or be cargo ≥ 1.80's explicit form
/// of the detected `build.rs` (or `build = false` when none is packaged).
fn check_build(n: &Table, o: &Table, published: &BTreeSet<&str>, diverging: &mut Vec<String>) {
    let build = |t: &Table| pkg(t).and_then(|p| p.get("build")).cloned();
    match (build(n), build(o)) {
        (Some(nb), Some(ob)) if nb != ob => {
            let same_path = nb
                .as_str()
                .zip(ob.as_str())
                .is_some_and(|(a, b)| norm_path(a) == norm_path(b));
            // `build = false` written for an unpackaged script only removes it; a path to a file
            // the crate does not hold cannot run anything.
            let packaged = nb
                .as_str()
                .is_some_and(|p| published.contains(norm_path(p).as_str()));
            if !same_path && (packaged || nb.as_bool() == Some(true)) {
                diverging.push("package.build".to_owned());
            }
        }
        (Some(toml::Value::String(nb)), None)
            if norm_path(&nb) != "build.rs" && published.contains(norm_path(&nb).as_str()) =>
        {
            diverging.push("package.build".to_owned());
        }
        (Some(toml::Value::Boolean(true)), None) => diverging.push("package.build".to_owned()),
        _ => {}
    }
}

/// Targets: every normalized target that points at a packaged file must be one `.orig` declares
/// (same path, or a path cargo's discovery gives it when `.orig` names none), or one cargo ≥ 1.80
/// discovered in the packaged files. Targets whose files are not packaged are never flagged:
/// cargo < 1.80 kept them verbatim, and a missing file adds no code.
fn check_targets(n: &Table, o: &Table, published: &BTreeSet<&str>, diverging: &mut Vec<String>) {
    let package = pkg(o)
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let orig_targets = targets(o);
    for t in targets(n) {
        let Some(path) = &t.path else {
            // No path: cargo derives it exactly as it would from `.orig`.
            continue;
        };
        let declared = orig_targets.iter().find(|x| {
            x.kind == t.kind
                && (t.kind == "lib"
                    || (x.name.is_some() && x.name == t.name)
                    || (x.path.is_some() && x.path.as_ref() == Some(path)))
        });
        let explained = match declared {
            Some(d) => match &d.path {
                Some(p) => p == path,
                None => discoverable(t.kind, d.name.as_deref(), path, &package),
            },
            None => {
                published.contains(path.as_str())
                    && discoverable(t.kind, t.name.as_deref(), path, &package)
            }
        };
        // A path to a file the crate does not hold can only fail to build, never add code:
        // cargo 1.78-era normalization rewrote `../examples/x.rs` to `examples/x.rs` (rust-s3
        // 0.35.0-alpha.1), and unpackaged targets were kept before 1.80.
        if !explained && published.contains(path.as_str()) {
            let label = match &t.name {
                Some(name) if t.kind != "lib" => format!("{} `{name}`", t.kind),
                _ => t.kind.to_owned(),
            };
            diverging.push(format!("{label} target path `{path}`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIG: &str = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nlocal = { path = \"../local\", version = \"0.1\" }\n\n[dev-dependencies]\ntestonly = { path = \"../t\" }\n";
    const NORM: &str = "# generated\n[package]\nname = \"x\"\nversion = \"1.0.0\"\nbuild = false\n\n[lib]\nname = \"x\"\npath = \"src/lib.rs\"\n\n[dependencies.serde]\nversion = \"1\"\nfeatures = [\"derive\"]\n\n[dependencies.local]\nversion = \"0.1\"\n";

    fn published() -> BTreeSet<&'static str> {
        ["src/lib.rs", "Cargo.toml", "Cargo.toml.orig"]
            .into_iter()
            .collect()
    }

    fn check(norm: &str, orig: &str) -> Vec<Finding> {
        check_normalized(norm.as_bytes(), orig.as_bytes(), &published(), None)
    }

    #[test]
    fn faithful_normalization_passes() {
        assert!(check(NORM, ORIG).is_empty());
    }

    #[test]
    fn added_dependency_is_caught() {
        let evil = format!("{NORM}\n[dependencies.evil]\nversion = \"1\"\n");
        let f = check(&evil, ORIG);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "normalized_manifest_diverges");
        assert!(
            f[0].message.contains("dependencies.evil"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn proc_macro_build_and_links_are_caught() {
        let evil = NORM
            .replace("build = false", "build = \"x.rs\"\nlinks = \"z\"")
            .replace("[lib]\n", "[lib]\nproc-macro = true\n");
        let mut p = published();
        p.insert("x.rs");
        let f = check_normalized(evil.as_bytes(), ORIG.as_bytes(), &p, None);
        let m = &f[0].message;
        assert!(
            m.contains("package.build")
                && m.contains("package.links")
                && m.contains("lib.proc-macro"),
            "{m}"
        );
    }

    #[test]
    fn explicit_targets_without_files_are_cargo_before_1_80() {
        // log 0.4.22 / textwrap 0.15.2 / syn 0.15.18: `[[test]]`, `[[bench]]`, `[[example]]`,
        // `[[bin]]` entries copied verbatim though their files were excluded.
        let orig = format!(
            "{ORIG}\n[[test]]\nname = \"filters\"\npath = \"tests/filters.rs\"\n\n[[bench]]\nname = \"b\"\nharness = false\n\n[[bin]]\nname = \"tool\"\npath = \"src/tool.rs\"\n"
        );
        let norm = format!(
            "{NORM}\n[[test]]\nname = \"filters\"\npath = \"tests/filters.rs\"\n\n[[bench]]\nname = \"b\"\nharness = false\n\n[[bin]]\nname = \"tool\"\npath = \"src/tool.rs\"\n"
        );
        assert!(check(&norm, &orig).is_empty(), "{:?}", check(&norm, &orig));
    }

    #[test]
    fn changed_or_added_target_paths_are_caught() {
        let evil = NORM.replace("path = \"src/lib.rs\"", "path = \"src/evil.rs\"");
        let mut with_evil = published();
        with_evil.insert("src/evil.rs");
        let f = check_normalized(evil.as_bytes(), ORIG.as_bytes(), &with_evil, None);
        assert!(f[0].message.contains("lib target path"), "{f:?}");
        // Pointing at a file the crate does not hold adds no code.
        assert!(check(&evil, ORIG).is_empty());
        // An added bin outside the discovery layout.
        let evil = format!("{NORM}\n[[bin]]\nname = \"x\"\npath = \"src/lib.rs\"\n");
        assert!(!check(&evil, ORIG).is_empty());
        // cargo ≥ 1.80 lists a discovered `src/main.rs` explicitly: fine when packaged.
        let norm = format!("{NORM}\n[[bin]]\nname = \"x\"\npath = \"src/main.rs\"\n");
        let mut p = published();
        p.insert("src/main.rs");
        assert!(check_normalized(norm.as_bytes(), ORIG.as_bytes(), &p, None).is_empty());
    }

    #[test]
    fn features_of_dropped_dev_dependencies_are_stripped() {
        // objc2 0.6.4 / wasm-bindgen: a feature naming a version-less dev-dependency.
        let orig =
            format!("{ORIG}\n[features]\nunstable = [\"testonly/nightly\", \"serde/std\"]\n");
        let norm = format!("{NORM}\n[features]\nunstable = [\"serde/std\"]\n");
        assert!(check(&norm, &orig).is_empty());
        let verbatim =
            format!("{NORM}\n[features]\nunstable = [\"testonly/nightly\", \"serde/std\"]\n");
        assert!(check(&verbatim, &orig).is_empty(), "cargo < 1.78 kept it");
        let evil = format!("{NORM}\n[features]\nunstable = [\"serde/std\", \"serde/evil\"]\n");
        assert!(!check(&evil, &orig).is_empty());
        let added = format!("{NORM}\n[features]\ndefault = [\"serde/std\"]\n");
        assert!(!check(&added, ORIG).is_empty());
    }

    #[test]
    fn renamed_and_target_dependencies() {
        let orig = format!(
            "{ORIG}\n[target.'cfg(any())'.dependencies]\nserde_core = {{ version = \"=1.0.220\", package = \"serde_core\" }}\n"
        );
        let norm = format!(
            "{NORM}\n[target.\"cfg(any())\".dependencies.serde_core]\nversion = \"=1.0.220\"\npackage = \"serde_core\"\n"
        );
        assert!(check(&norm, &orig).is_empty());
        let evil = norm.replace("package = \"serde_core\"", "package = \"serde_cor3\"");
        assert!(!check(&evil, &orig).is_empty());
        let evil = norm.replace("=1.0.220", "=1.0.221");
        assert!(!check(&evil, &orig).is_empty());
    }

    #[test]
    fn cargo_1_80_lists_discovered_targets_explicitly() {
        // What cargo >= 1.80 writes for a package with `src/main.rs`, `src/bin/tool/main.rs`,
        // `examples/demo.rs`, `tests/it.rs`, `benches/b.rs` and no build script.
        let orig = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n";
        let norm = "[package]\nname = \"x\"\nversion = \"1.0.0\"\nbuild = false\nautolib = false\nautobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\n[lib]\nname = \"x\"\npath = \"src/lib.rs\"\n\n[[bin]]\nname = \"x\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"tool\"\npath = \"src/bin/tool/main.rs\"\n\n[[example]]\nname = \"demo\"\npath = \"examples/demo.rs\"\n\n[[test]]\nname = \"it\"\npath = \"tests/it.rs\"\n\n[[bench]]\nname = \"b\"\npath = \"benches/b.rs\"\n";
        let published: BTreeSet<&str> = [
            "src/lib.rs",
            "src/main.rs",
            "src/bin/tool/main.rs",
            "examples/demo.rs",
            "tests/it.rs",
            "benches/b.rs",
        ]
        .into_iter()
        .collect();
        let f = check_normalized(norm.as_bytes(), orig.as_bytes(), &published, None);
        assert!(f.is_empty(), "{f:?}");
        // An added target at a packaged path outside the discovery layout: no cargo writes it.
        let odd = norm.replace("path = \"tests/it.rs\"", "path = \"src/lib.rs\"");
        assert!(!check_normalized(odd.as_bytes(), orig.as_bytes(), &published, None).is_empty());
        // `build = "build.rs"` written for a detected, packaged build script.
        let with_build = norm.replace("build = false", "build = \"build.rs\"");
        let mut more = published.clone();
        more.insert("build.rs");
        assert!(check_normalized(with_build.as_bytes(), orig.as_bytes(), &more, None).is_empty());
        // Another packaged file named as the build script is laundering.
        let other = norm.replace("build = false", "build = \"src/main.rs\"");
        assert!(!check_normalized(other.as_bytes(), orig.as_bytes(), &published, None).is_empty());
    }

    #[test]
    fn cargo_1_40_drops_version_less_dev_dependencies_only() {
        // `testonly` (path only) is dropped; a normal path dependency without a version cannot
        // be published, and a dropped normal dependency with one is laundering.
        assert!(check(NORM, ORIG).is_empty());
        let evil = NORM.replace("[dependencies.local]\nversion = \"0.1\"\n", "");
        let f = check(&evil, ORIG);
        assert!(
            f[0].message.contains("dependencies.local (dropped)"),
            "{f:?}"
        );
    }

    #[test]
    fn workspace_inheritance_is_resolved() {
        let orig = "[package]\nname = \"x\"\nversion.workspace = true\n\n[dependencies]\nserde = { workspace = true, features = [\"derive\"] }\n";
        let norm = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dependencies.serde]\nversion = \"1.0.200\"\nfeatures = [\"derive\"]\n";
        // Without the workspace (no repository), the resolved requirement cannot be checked.
        assert!(check(norm, orig).is_empty());
        let ws: Table = "serde = { version = \"1.0.200\", default-features = false }"
            .parse()
            .unwrap();
        let p = published();
        assert!(check_normalized(norm.as_bytes(), orig.as_bytes(), &p, Some(&ws)).is_empty());
        let other: Table = "serde = \"1.0.100\"".parse().unwrap();
        let f = check_normalized(norm.as_bytes(), orig.as_bytes(), &p, Some(&other));
        assert!(
            f[0].message.contains("dependencies.serde (version"),
            "{f:?}"
        );
    }

    #[test]
    fn cargo_1_19_removes_workspace_patch_and_sources() {
        let orig = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dependencies]\nfoo = { git = \"https://example.invalid/foo\", version = \"0.2\" }\n\n[patch.crates-io]\nfoo = { path = \"../foo\" }\n\n[workspace]\n";
        let norm = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dependencies.foo]\nversion = \"0.2\"\n";
        assert!(check(norm, orig).is_empty());
        let left = format!("{norm}\n[patch.crates-io]\nfoo = {{ path = \"../foo\" }}\n");
        let f = check(&left, orig);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "non_normalized_manifest");
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn underscore_spellings_and_project_table() {
        let orig = "[project]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dev_dependencies]\nquickcheck = \"0.4\"\n\n[build_dependencies]\ncc = \"1\"\n";
        let norm = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dev-dependencies.quickcheck]\nversion = \"0.4\"\n\n[build-dependencies.cc]\nversion = \"1\"\n";
        assert!(check(norm, orig).is_empty(), "{:?}", check(norm, orig));
    }
}
