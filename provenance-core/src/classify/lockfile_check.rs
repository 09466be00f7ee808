//! Semantic check of a published `Cargo.lock`: is it a resolve cargo could have written for this
//! package (lock-file versions 1–4)?
//!
//! Cargo writes `Cargo.lock` into the archive when packaging (1.36+ regenerated for the package;
//! 1.26–1.35 under the unstable `publish-lockfile` a verbatim copy of the workspace's lock). Either
//! way the file is a resolve graph closed under its own edges: every `[[package]]` is reachable
//! from a path package (the package itself, or in a verbatim workspace lock another member), and
//! the package's own entry depends only on what its manifests declare — in any dependency table,
//! under any `[target.*]`, renamed through `package = "…"`, path dependencies published as
//! registry ones. A lock that names a package nothing reaches, or gives the package a dependency
//! no manifest declares, was edited after cargo wrote it.
//!
//! Formats: v1 (`"name version (source)"` edges, `[metadata]` checksums, very old files with a
//! `[root]` table), v2 (no `version` key, edges `"name"` or `"name version"` when ambiguous),
//! v3 (`version = 3`), v4 (`version = 4`).

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Finding, Severity};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    name: String,
    version: String,
    source: Option<String>,
}

impl Node {
    fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// A dependency edge as written: `name`, `name version` or `name version (source)`.
fn parse_edge(s: &str) -> (String, Option<String>, Option<String>) {
    let mut parts = s.splitn(3, ' ');
    let name = parts.next().unwrap_or_default().to_owned();
    let version = parts.next().map(str::to_owned);
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')').to_owned());
    (name, version, source)
}

fn node(t: &toml::Table) -> Option<(Node, Vec<String>)> {
    let name = t.get("name")?.as_str()?.to_owned();
    let version = t.get("version")?.as_str()?.to_owned();
    let source = t
        .get("source")
        .and_then(toml::Value::as_str)
        .map(str::to_owned);
    let edges = t
        .get("dependencies")
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some((
        Node {
            name,
            version,
            source,
        },
        edges,
    ))
}

/// The package names the manifests declare as dependencies (keys and `package = "…"` targets,
/// in every table of both manifests).
fn declared(manifests: &[&toml::Table]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in manifests {
        for ((_, key), dep) in super::manifest_check::deps(m) {
            out.insert(dep.package.clone().unwrap_or(key));
        }
    }
    out
}

fn lock_finding(kind: &str, severity: Severity, message: String) -> Finding {
    Finding::new(kind, severity, message).with_path("Cargo.lock")
}

/// Every package of the lock file (the `[root]` of a v1 lock included) with its dependency
/// edges.
fn lock_nodes(l: &toml::Table) -> Vec<(Node, Vec<String>)> {
    let mut nodes: Vec<(Node, Vec<String>)> = Vec::new();
    if let Some(root) = l.get("root").and_then(toml::Value::as_table)
        && let Some(n) = node(root)
    {
        nodes.push(n);
    }
    if let Some(packages) = l.get("package").and_then(toml::Value::as_array) {
        nodes.extend(
            packages
                .iter()
                .filter_map(toml::Value::as_table)
                .filter_map(node),
        );
    }
    nodes
}

/// Reachability from every path package: packages that nothing depends on, dependencies that
/// have no entry.
fn graph_findings(nodes: &[(Node, Vec<String>)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (n, _)) in nodes.iter().enumerate() {
        by_name.entry(n.name.as_str()).or_default().push(i);
    }
    let resolve = |edge: &str| -> Vec<usize> {
        let (ename, ever, esrc) = parse_edge(edge);
        by_name
            .get(ename.as_str())
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|&i| ever.as_ref().is_none_or(|v| *v == nodes[i].0.version))
                    .filter(|&i| esrc.is_none() || esrc == nodes[i].0.source)
                    .collect()
            })
            .unwrap_or_default()
    };
    // Reachability from every path package.
    let mut seen = vec![false; nodes.len()];
    let mut stack: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].0.source.is_none())
        .collect();
    let mut dangling = BTreeSet::new();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        for e in &nodes[i].1 {
            let targets = resolve(e);
            if targets.is_empty() {
                dangling.insert(e.clone());
            }
            stack.extend(targets.into_iter().filter(|&t| !seen[t]));
        }
    }
    let unreachable: BTreeSet<String> = nodes
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|((n, _), _)| n.label())
        .collect();
    if !unreachable.is_empty() {
        findings.push(lock_finding(
            "lockfile_inconsistent",
            Severity::High,
            format!(
                "the published `Cargo.lock` holds packages that nothing in it depends on: {}",
                unreachable
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if !dangling.is_empty() {
        findings.push(lock_finding(
            "lockfile_dangling_dependency",
            Severity::Low,
            format!(
                "the published `Cargo.lock` names dependencies it has no entry for: {}",
                dangling
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    findings
}

/// Check a published `Cargo.lock` against the normalized manifest (and `.orig`, when present:
/// a verbatim workspace lock of cargo 1.26–1.35 also locks the version-less dev-dependencies
/// normalization drops).
pub fn check_lockfile(
    lock: &[u8],
    normalized: &[u8],
    orig: Option<&[u8]>,
    name: &str,
    version: &str,
) -> Vec<Finding> {
    let parse = crate::metadata::parse_toml_table;
    let (Some(l), Some(n)) = (parse(lock), parse(normalized)) else {
        return vec![lock_finding(
            "lockfile_unparsable",
            Severity::Low,
            "the published `Cargo.lock` cannot be parsed".to_owned(),
        )];
    };
    let o = orig.and_then(parse);
    let nodes = lock_nodes(&l);
    if nodes.is_empty() {
        return Vec::new();
    }
    let mut findings = graph_findings(&nodes);
    // The package's own entry.
    let Some((_, own_edges)) = nodes
        .iter()
        .find(|(p, _)| p.name == name && p.version == version && p.source.is_none())
    else {
        findings.push(lock_finding(
            "lockfile_without_package",
            Severity::Low,
            format!("the published `Cargo.lock` has no entry for `{name} {version}` itself"),
        ));
        return findings;
    };
    let manifests: Vec<&toml::Table> = std::iter::once(&n).chain(o.as_ref()).collect();
    let declared = declared(&manifests);
    let extra: BTreeSet<String> = own_edges
        .iter()
        .map(|e| parse_edge(e).0)
        .filter(|d| !declared.contains(d))
        .collect();
    if !extra.is_empty() {
        findings.push(lock_finding(
            "lockfile_inconsistent",
            Severity::High,
            format!(
                "the published `Cargo.lock` gives `{name}` dependencies its manifest does not declare: {}",
                extra
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const NORM: &str = "[package]\nname = \"x\"\nversion = \"1.0.0\"\n\n[dependencies.serde]\nversion = \"1\"\npackage = \"serde_core\"\n\n[target.\"cfg(windows)\".dependencies.winapi]\nversion = \"0.3\"\n";

    fn lock(extra_root: &str, extra_pkgs: &str) -> String {
        format!(
            "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\ndependencies = [\n \"serde_core\",\n \"winapi\",\n{extra_root}]\n\n[[package]]\nname = \"serde_core\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"winapi\"\nversion = \"0.3.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n{extra_pkgs}"
        )
    }

    fn check(lock: &str) -> Vec<Finding> {
        check_lockfile(lock.as_bytes(), NORM.as_bytes(), None, "x", "1.0.0")
    }

    #[test]
    fn renamed_and_target_specific_dependencies_are_declared() {
        // semver 1.0.27: `serde` renamed from `serde_core`, a `[target.*]` dependency.
        assert!(
            check(&lock("", "")).is_empty(),
            "{:?}",
            check(&lock("", ""))
        );
    }

    #[test]
    fn undeclared_dependency_of_the_package() {
        let l = lock(
            " \"evil\",\n",
            "\n[[package]]\nname = \"evil\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        );
        let f = check(&l);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`evil`") && f[0].severity == Severity::High);
    }

    #[test]
    fn package_reachable_from_nothing() {
        let l = lock(
            "",
            "\n[[package]]\nname = \"evil\"\nversion = \"1.0.0\"\nsource = \"git+https://evil.example/evil#abc\"\n",
        );
        let f = check(&l);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`evil 1.0.0`"), "{f:?}");
    }

    #[test]
    fn v1_lock_with_root_table_and_sources_in_edges() {
        let l = "[root]\nname = \"x\"\nversion = \"1.0.0\"\ndependencies = [\n \"serde_core 1.0.1 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n[[package]]\nname = \"serde_core\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[metadata]\n\"checksum serde_core 1.0.1 (registry+https://github.com/rust-lang/crates.io-index)\" = \"00\"\n";
        assert!(check(l).is_empty(), "{:?}", check(l));
    }
}
