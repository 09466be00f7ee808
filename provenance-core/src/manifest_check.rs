//! Semantic checks of the files cargo generates: is the normalized `Cargo.toml` what cargo
//! would produce from `Cargo.toml.orig` (plus workspace inheritance), and does a published
//! `Cargo.lock` resolve the same dependency names as the manifest?
//!
//! Cargo builds a downloaded crate from its *normalized* `Cargo.toml`, never from
//! `Cargo.toml.orig`; a hand-edited normalized manifest (an added dependency, a build script, a
//! proc-macro flag) launders code even when `.orig` matches the repository
//! (shared/SECURITY.md M7). Mirrors `prepare_for_publish` in cargo's `src/cargo/util/toml/mod.rs`.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Finding, Severity};

type Table = toml::Table;

const DEP_TABLES: &[&str] = &["dependencies", "build-dependencies", "dev-dependencies"];

fn dep_tables(t: &Table) -> Vec<(String, &Table)> {
    let mut out = Vec::new();
    for k in DEP_TABLES {
        if let Some(d) = t.get(*k).and_then(toml::Value::as_table) {
            out.push(((*k).to_owned(), d));
        }
        // `dev_dependencies` / `build_dependencies` spellings
        if let Some(d) = t.get(&k.replace('-', "_")).and_then(toml::Value::as_table) {
            out.push(((*k).to_owned(), d));
        }
    }
    if let Some(targets) = t.get("target").and_then(toml::Value::as_table) {
        for (cfg, v) in targets {
            if let Some(tt) = v.as_table() {
                for k in DEP_TABLES {
                    if let Some(d) = tt.get(*k).and_then(toml::Value::as_table) {
                        out.push((format!("target.{cfg}.{k}"), d));
                    }
                }
            }
        }
    }
    out
}

/// `(table, dependency key)` → (version requirement if literal, inherited from workspace,
/// has a path/git source only).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dep {
    version: Option<String>,
    inherited: bool,
    registry_less: bool,
}

fn deps(t: &Table) -> BTreeMap<(String, String), Dep> {
    let mut out = BTreeMap::new();
    for (table, d) in dep_tables(t) {
        for (name, spec) in d {
            let dep = match spec {
                toml::Value::String(v) => Dep {
                    version: Some(v.clone()),
                    inherited: false,
                    registry_less: false,
                },
                toml::Value::Table(s) => Dep {
                    version: s
                        .get("version")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned),
                    inherited: s.get("workspace").and_then(toml::Value::as_bool) == Some(true),
                    registry_less: s.get("version").is_none()
                        && (s.contains_key("path") || s.contains_key("git")),
                },
                _ => continue,
            };
            out.insert((table.clone(), name.clone()), dep);
        }
    }
    out
}

fn pkg(t: &Table) -> Option<&Table> {
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

fn target_paths(t: &Table) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(p) = t
        .get("lib")
        .and_then(toml::Value::as_table)
        .and_then(|l| l.get("path"))
        .and_then(toml::Value::as_str)
    {
        out.push(("lib".to_owned(), p.to_owned()));
    }
    for kind in ["bin", "example", "test", "bench"] {
        if let Some(arr) = t.get(kind).and_then(toml::Value::as_array) {
            for v in arr {
                if let Some(p) = v
                    .as_table()
                    .and_then(|x| x.get("path"))
                    .and_then(toml::Value::as_str)
                {
                    out.push((kind.to_owned(), p.to_owned()));
                }
            }
        }
    }
    if let Some(b) = pkg(t)
        .and_then(|p| p.get("build"))
        .and_then(toml::Value::as_str)
    {
        out.push(("build".to_owned(), b.to_owned()));
    }
    out
}

fn norm_path(p: &str) -> String {
    p.trim_start_matches("./").replace('\\', "/")
}

/// Check the normalized manifest against `.orig`. `published` is the set of files in the crate.
/// `workspace_deps` are `[workspace.dependencies]` of the workspace root at the commit, when known.
pub fn check_normalized(
    normalized: &[u8],
    orig: &[u8],
    published: &BTreeSet<&str>,
    workspace_deps: Option<&Table>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parse = crate::metadata::parse_toml_table;
    let (Some(n), Some(o)) = (parse(normalized), parse(orig)) else {
        return findings;
    };
    let mut diverging: Vec<String> = Vec::new();

    // Leftovers cargo always removes.
    let mut leftovers: Vec<&str> = ["patch", "replace", "workspace"]
        .into_iter()
        .filter(|k| n.contains_key(*k))
        .collect();
    if pkg(&n).is_some_and(|p| {
        p.values()
            .any(|v| v.as_table().is_some_and(|t| t.contains_key("workspace")))
    }) {
        leftovers.push("package.*.workspace");
    }
    if !leftovers.is_empty() {
        findings.push(Finding::new(
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
        ));
    }

    // Dependencies: every normalized dependency must come from `.orig` with the same requirement.
    let nd = deps(&n);
    let od = deps(&o);
    for ((table, name), dep) in &nd {
        match od.get(&(table.clone(), name.clone())) {
            None => diverging.push(format!("{table}.{name} (not in `Cargo.toml.orig`)")),
            Some(orig_dep) => {
                let want = if orig_dep.inherited {
                    workspace_deps.and_then(|w| match w.get(name) {
                        Some(toml::Value::String(v)) => Some(v.clone()),
                        Some(toml::Value::Table(t)) => t
                            .get("version")
                            .and_then(toml::Value::as_str)
                            .map(str::to_owned),
                        _ => None,
                    })
                } else {
                    orig_dep.version.clone()
                };
                if let (Some(w), Some(have)) = (&want, &dep.version)
                    && w != have
                {
                    diverging.push(format!(
                        "{table}.{name} (version `{have}`, `.orig` says `{w}`)"
                    ));
                }
            }
        }
    }
    // Normal and build dependencies cannot disappear (dev-dependencies without a version can).
    for ((table, name), dep) in &od {
        if !table.ends_with("dev-dependencies")
            && !dep.registry_less
            && !nd.contains_key(&(table.clone(), name.clone()))
        {
            diverging.push(format!("{table}.{name} (dropped)"));
        }
    }
    // Features must be copied verbatim.
    if n.get("features") != o.get("features")
        && !(n
            .get("features")
            .is_none_or(|f| f.as_table().is_some_and(toml::Table::is_empty))
            && o.get("features").is_none())
    {
        diverging.push("features".to_owned());
    }
    // links, proc-macro.
    let links = |t: &Table| pkg(t).and_then(|p| p.get("links")).cloned();
    if links(&n) != links(&o) {
        diverging.push("package.links".to_owned());
    }
    if lib_flag(&n) != lib_flag(&o) {
        diverging.push("lib.proc-macro".to_owned());
    }
    // Build script: an explicit normalized `build` must come from `.orig` (or be cargo's
    // explicit form of the auto-detected `build.rs`, since 1.80).
    let build = |t: &Table| pkg(t).and_then(|p| p.get("build")).cloned();
    match (build(&n), build(&o)) {
        (Some(nb), Some(ob)) if nb != ob => {
            let same_path = nb
                .as_str()
                .zip(ob.as_str())
                .is_some_and(|(a, b)| norm_path(a) == norm_path(b));
            if !same_path {
                diverging.push("package.build".to_owned());
            }
        }
        (Some(toml::Value::String(nb)), None) if norm_path(&nb) != "build.rs" => {
            diverging.push("package.build".to_owned());
        }
        _ => {}
    }
    // Every target the normalized manifest names must be a file in the crate.
    for (kind, path) in target_paths(&n) {
        if !published.contains(norm_path(&path).as_str()) {
            diverging.push(format!("{kind} target `{path}` is not in the crate"));
        }
    }
    if !diverging.is_empty() {
        findings.push(Finding::new(
            "normalized_manifest_diverges",
            Severity::High,
            format!(
                "the normalized `Cargo.toml` (what cargo builds from) is not what cargo generates from `Cargo.toml.orig`: {}",
                diverging.join(", ")
            ),
        ).with_path("Cargo.toml"));
    }
    findings
}

/// Check that a published `Cargo.lock` resolves the same dependency names as the normalized
/// manifest: every dependency of the package's own entry must be declared.
pub fn check_lockfile(lock: &[u8], normalized: &[u8], name: &str, version: &str) -> Vec<Finding> {
    let parse = crate::metadata::parse_toml_table;
    let (Some(l), Some(n)) = (parse(lock), parse(normalized)) else {
        return vec![
            Finding::new(
                "lockfile_unparsable",
                Severity::Low,
                "the published `Cargo.lock` cannot be parsed",
            )
            .with_path("Cargo.lock"),
        ];
    };
    let declared: BTreeSet<String> = deps(&n)
        .into_keys()
        .map(|(_, k)| {
            // A renamed dependency locks under its package name.
            n.get("dependencies")
                .and_then(|d| d.get(&k))
                .and_then(|v| v.get("package"))
                .and_then(toml::Value::as_str)
                .map_or(k.clone(), str::to_owned)
        })
        .chain(dep_tables(&n).into_iter().flat_map(|(_, t)| {
            t.values()
                .filter_map(|v| {
                    v.get("package")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned)
                })
                .collect::<Vec<_>>()
        }))
        .collect();
    let Some(packages) = l.get("package").and_then(toml::Value::as_array) else {
        return Vec::new();
    };
    let Some(own) = packages.iter().filter_map(toml::Value::as_table).find(|p| {
        p.get("name").and_then(toml::Value::as_str) == Some(name)
            && p.get("version").and_then(toml::Value::as_str) == Some(version)
            && p.get("source").is_none()
    }) else {
        return vec![
            Finding::new(
                "lockfile_inconsistent",
                Severity::Medium,
                format!("the published `Cargo.lock` has no entry for `{name} {version}` itself"),
            )
            .with_path("Cargo.lock"),
        ];
    };
    let locked: BTreeSet<String> = own
        .get("dependencies")
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(toml::Value::as_str)
                .map(|s| s.split(' ').next().unwrap_or(s).to_owned())
                .collect()
        })
        .unwrap_or_default();
    let extra: Vec<&String> = locked.iter().filter(|d| !declared.contains(*d)).collect();
    if extra.is_empty() {
        Vec::new()
    } else {
        vec![Finding::new(
            "lockfile_inconsistent",
            Severity::High,
            format!(
                "the published `Cargo.lock` locks dependencies the manifest does not declare: {}",
                extra.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
            ),
        )
        .with_path("Cargo.lock")]
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

    #[test]
    fn faithful_normalization_passes() {
        assert!(check_normalized(NORM.as_bytes(), ORIG.as_bytes(), &published(), None).is_empty());
    }

    #[test]
    fn added_dependency_is_caught() {
        let evil = format!("{NORM}\n[dependencies.evil]\nversion = \"1\"\n");
        let f = check_normalized(evil.as_bytes(), ORIG.as_bytes(), &published(), None);
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
        let f = check_normalized(evil.as_bytes(), ORIG.as_bytes(), &published(), None);
        let m = &f[0].message;
        assert!(
            m.contains("package.build")
                && m.contains("package.links")
                && m.contains("lib.proc-macro"),
            "{m}"
        );
    }

    #[test]
    fn lockfile_with_undeclared_dependency() {
        let lock = "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\ndependencies = [\n \"serde\",\n \"local\",\n \"evil\",\n]\n";
        let f = check_lockfile(lock.as_bytes(), NORM.as_bytes(), "x", "1.0.0");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("`evil`"));
        let ok = lock.replace(" \"evil\",\n", "");
        assert!(check_lockfile(ok.as_bytes(), NORM.as_bytes(), "x", "1.0.0").is_empty());
    }
}
