//! Reading the git tree as cargo would see a checkout: paths resolved through symlinks (inside
//! the repository only), manifests read and parsed.

use std::collections::VecDeque;

use gix::ObjectId;

use super::error::Error;
use super::paths::{comps, join};
use crate::error::LimitError;
use crate::limits::Limits;
use crate::metadata::{self, Manifest};
use crate::repo::{self, NodeKind, Repo};

/// The result of resolving a path inside a tree.
#[derive(Debug, Clone)]
pub(super) enum Resolved {
    File {
        id: ObjectId,
        exec: bool,
        path: String,
    },
    Dir {
        id: ObjectId,
        path: String,
    },
    Gitlink {
        commit: ObjectId,
        path: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResolveError {
    Escapes,
    Dangling,
    Loop,
}

impl ResolveError {
    pub(super) fn describe(self) -> &'static str {
        match self {
            ResolveError::Escapes => "points outside the repository",
            ResolveError::Dangling => "is dangling",
            ResolveError::Loop => "is part of a symlink loop",
        }
    }
}

/// Resolve `path` (repository components) inside the tree `root`, following symlinks.
pub(super) fn resolve(
    repo: &Repo,
    root: ObjectId,
    path: &[String],
    limits: &Limits,
) -> Result<Result<Resolved, ResolveError>, Error> {
    let mut stack: Vec<(String, ObjectId)> = Vec::new();
    let mut queue: VecDeque<String> = path.iter().cloned().collect();
    let mut hops = 0u64;
    while let Some(c) = queue.pop_front() {
        if c.is_empty() || c == "." {
            continue;
        }
        if c == ".." {
            if stack.pop().is_none() {
                return Ok(Err(ResolveError::Escapes));
            }
            continue;
        }
        let cur = stack.last().map_or(root, |s| s.1);
        let entries = repo.tree(cur)?;
        let Some(e) = entries.iter().find(|e| e.name == c) else {
            return Ok(Err(ResolveError::Dangling));
        };
        let last = queue.iter().all(|q| q.is_empty() || q == ".");
        let here = || {
            let mut p: Vec<&str> = stack.iter().map(|s| s.0.as_str()).collect();
            p.push(&c);
            p.join("/")
        };
        match e.kind {
            NodeKind::Tree => {
                if last {
                    let path = here();
                    return Ok(Ok(Resolved::Dir { id: e.id, path }));
                }
                stack.push((c.clone(), e.id));
            }
            NodeKind::Blob | NodeKind::Executable => {
                if last {
                    return Ok(Ok(Resolved::File {
                        id: e.id,
                        exec: e.kind == NodeKind::Executable,
                        path: here(),
                    }));
                }
                return Ok(Err(ResolveError::Dangling));
            }
            NodeKind::Gitlink => {
                if last {
                    return Ok(Ok(Resolved::Gitlink {
                        commit: e.id,
                        path: here(),
                    }));
                }
                // Content inside a submodule: its commit's tree when the commit is in this
                // object store (a checkout with the submodule initialized), else the gitlink
                // itself, which the caller records as a missing submodule (not a dangling link).
                if let Ok(repo::CommitLookup::Found(sub)) = repo.lookup_commit(&e.id.to_string()) {
                    stack.push((c.clone(), sub.tree));
                    continue;
                }
                return Ok(Ok(Resolved::Gitlink {
                    commit: e.id,
                    path: here(),
                }));
            }
            NodeKind::Link => {
                hops += 1;
                if hops > limits.max_symlink_hops {
                    return Ok(Err(ResolveError::Loop));
                }
                let text = repo.blob(e.id, 4096).map_err(|err| match err {
                    repo::Error::LimitExceeded(l) => Error::LimitExceeded(l),
                    other => Error::Repo(other),
                })?;
                let text = String::from_utf8_lossy(&text).into_owned();
                if text.starts_with('/') {
                    return Ok(Err(ResolveError::Escapes));
                }
                let mut new: VecDeque<String> = text.split('/').map(str::to_owned).collect();
                new.extend(queue.drain(..));
                queue = new;
            }
        }
    }
    // The empty path: the root itself.
    Ok(Ok(match stack.last() {
        Some((_, id)) => Resolved::Dir {
            id: *id,
            path: stack
                .iter()
                .map(|s| s.0.as_str())
                .collect::<Vec<_>>()
                .join("/"),
        },
        None => Resolved::Dir {
            id: root,
            path: String::new(),
        },
    }))
}

/// Read and parse the manifest at `dir/Cargo.toml` in `tree` (no symlink following for the file
/// itself beyond what cargo does: the manifest may be a symlink).
pub(super) fn read_manifest(
    repo: &Repo,
    root: ObjectId,
    dir: &str,
    limits: &Limits,
) -> Result<Option<(Manifest, ObjectId, Vec<u8>)>, Error> {
    let mut p = comps(dir);
    p.push("Cargo.toml".into());
    match resolve(repo, root, &p, limits)? {
        Ok(Resolved::File { id, .. }) => {
            let size = repo.blob_size(id)?;
            if size > limits.max_manifest_bytes {
                return Err(Error::LimitExceeded(LimitError {
                    limit: "max_manifest_bytes",
                    max: limits.max_manifest_bytes,
                    value: size,
                }));
            }
            let bytes = repo.blob(id, limits.max_manifest_bytes)?;
            let m = metadata::parse_manifest(&bytes, &join(dir, "Cargo.toml"), limits).map_err(
                |e| Error::Package {
                    path: dir.to_owned(),
                    message: e.to_string(),
                },
            )?;
            Ok(Some((m, id, bytes)))
        }
        _ => Ok(None),
    }
}
