//! Finding the package in the tree: at the recorded path (or through a symlinked manifest), or
//! by discovery for crates published before cargo recorded `path_in_vcs`.

use std::collections::VecDeque;

use gix::ObjectId;

use super::error::Error;
use super::paths::{comps, dirname, join};
use super::selection::PackageLocation;
use super::tree::{Resolved, read_manifest, resolve};
use crate::error::LimitError;
use crate::limits::Limits;
use crate::metadata::Manifest;
use crate::repo::{NodeKind, Repo};

/// Locate the package `name` (`None`: any package, only with `path`) at `path` (when given) or
/// anywhere in the tree (discovery, for
/// crates published before cargo 1.57 wrote `path_in_vcs`). With several candidates, prefer
/// the one whose manifest bytes equal `orig` (the published `Cargo.toml.orig`), then the one
/// whose version equals `version`, then the shortest path.
#[allow(clippy::too_many_arguments)]
pub fn locate_package(
    repo: &Repo,
    commit: ObjectId,
    tree: ObjectId,
    name: Option<&str>,
    version: &str,
    path: Option<&str>,
    orig: Option<&[u8]>,
    limits: &Limits,
) -> Result<PackageLocation, Error> {
    repo.reset_walk_budget();
    let not_found = |path: &str, found: String| Error::PackageNotFound {
        name: name.unwrap_or("*").to_owned(),
        path: path.to_owned(),
        commit: commit.to_string(),
        found,
    };
    let score = |c: &(String, Manifest, ObjectId, Vec<u8>)| {
        let exact = orig.is_some_and(|o| o == c.3.as_slice());
        let ver = c.1.version.value().is_some_and(|v| v == version);
        (
            std::cmp::Reverse(exact),
            std::cmp::Reverse(ver),
            c.0.matches('/').count(),
            c.0.clone(),
        )
    };
    let name_ok = |m: &Manifest| m.name.is_some() && (name.is_none() || m.name.as_deref() == name);
    if let Some(p) = path {
        let direct = read_manifest(repo, tree, p, limits)?;
        if let Some((m, id, _)) = &direct
            && name_ok(m)
        {
            return Ok(PackageLocation {
                path: p.to_owned(),
                manifest: m.clone(),
                manifest_id: *id,
            });
        }
        // A symlinked manifest: cargo ≥ 1.79 records the canonical directory of the manifest
        // (the link target's) as `path_in_vcs`, while the package root is the link's directory.
        let mut linked: Vec<(String, Manifest, ObjectId, Vec<u8>)> = Vec::new();
        for (dir, kind) in manifest_entries(repo, tree, limits)? {
            if kind != NodeKind::Link {
                continue;
            }
            let mut mp = comps(&dir);
            mp.push("Cargo.toml".into());
            if let Ok(Resolved::File { path: target, .. }) = resolve(repo, tree, &mp, limits)?
                && dirname(&target) == p
                && let Ok(Some((m, id, bytes))) = read_manifest(repo, tree, &dir, limits)
                && name_ok(&m)
            {
                linked.push((dir, m, id, bytes));
            }
        }
        linked.sort_by_key(score);
        if let Some((d, m, id, _)) = linked.into_iter().next() {
            return Ok(PackageLocation {
                path: d,
                manifest: m,
                manifest_id: id,
            });
        }
        return Err(not_found(
            p,
            match direct.map(|d| d.0.name) {
                Some(Some(n)) => format!("; found package `{n}`"),
                Some(None) => "; found a manifest without `[package]`".to_owned(),
                None => "; no `Cargo.toml` there".to_owned(),
            },
        ));
    }
    // Discovery: every directory holding a `Cargo.toml` file (symlinks and submodules are not
    // followed), breadth-first so shallower candidates come first.
    let mut candidates: Vec<(String, Manifest, ObjectId, Vec<u8>)> = Vec::new();
    for (dir, kind) in manifest_entries(repo, tree, limits)? {
        if matches!(kind, NodeKind::Blob | NodeKind::Executable)
            && let Ok(Some((m, mid, bytes))) = read_manifest(repo, tree, &dir, limits)
            && m.name.is_some()
            && m.name.as_deref() == name
        {
            candidates.push((dir, m, mid, bytes));
        }
    }
    candidates.sort_by_key(score);
    match candidates.into_iter().next() {
        Some((p, m, id, _)) => Ok(PackageLocation {
            path: p,
            manifest: m,
            manifest_id: id,
        }),
        None => Err(not_found("<discovery>", String::new())),
    }
}

/// Every directory of the tree with an entry named `Cargo.toml`, with that entry's kind,
/// breadth-first (bounded by the tree limits).
fn manifest_entries(
    repo: &Repo,
    tree: ObjectId,
    limits: &Limits,
) -> Result<Vec<(String, NodeKind)>, Error> {
    let mut out = Vec::new();
    let mut queue: VecDeque<(String, ObjectId, u64)> = VecDeque::from([(String::new(), tree, 0)]);
    while let Some((dir, id, depth)) = queue.pop_front() {
        if depth > limits.max_tree_depth {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_tree_depth",
                max: limits.max_tree_depth,
                value: depth,
            }));
        }
        for e in repo.tree(id)?.iter() {
            if e.kind == NodeKind::Tree {
                queue.push_back((join(&dir, &e.name), e.id, depth + 1));
            } else if e.name == "Cargo.toml" {
                out.push((dir.clone(), e.kind));
            }
        }
    }
    Ok(out)
}
