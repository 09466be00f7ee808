//! Symlinks and submodules: a link is resolved inside the repository (a file, a directory walked
//! since cargo 1.38, a gitlink), never on our file system; a submodule is listed when its commit
//! is in the object store, otherwise recorded as missing.

use gix::ObjectId;

use super::error::Error;
use super::paths::{comps, dirname};
use super::selection::{Content, Expected, Link, MissingSubmodule, Origin};
use super::tree::{ResolveError, Resolved, resolve};
use super::walker::Walker;
use crate::repo;
use crate::report::{Finding, Severity};
use crate::text::escape;

impl Walker<'_> {
    /// Handle a symlink entry at package path `rel`, repository path `repo_path`.
    pub(super) fn link(
        &mut self,
        root: ObjectId,
        rel: &str,
        repo_path: &str,
        id: ObjectId,
        inherited: Option<&Link>,
        depth: u64,
    ) -> Result<(), Error> {
        let text = self.repo.blob(id, 4096).map_err(|e| match e {
            repo::Error::LimitExceeded(l) => Error::LimitExceeded(l),
            other => Error::Repo(other),
        })?;
        let mut target = comps(dirname(repo_path));
        target.extend(String::from_utf8_lossy(&text).split('/').map(str::to_owned));
        if text.starts_with(b"/") {
            target = vec!["..".into(); comps(repo_path).len() + 1];
        }
        let own = |directory| Link {
            link_path: rel.to_owned(),
            text: text.clone(),
            directory,
        };
        match resolve(self.repo, root, &target, self.limits)? {
            Ok(Resolved::File { id, exec, path }) => {
                let link = inherited.cloned().unwrap_or_else(|| own(false));
                self.add(
                    rel.to_owned(),
                    Content::Blob {
                        id,
                        repo_path: path,
                        executable: exec,
                    },
                    Some(link),
                );
            }
            Ok(Resolved::Dir { id, path }) => {
                if !self.rules.symlinked_dirs_walked() {
                    if self.filter.keep(rel, false) {
                        self.fail(format!(
                            "symlink `{rel}` points to a directory (cargo < 1.38 cannot package it)"
                        ));
                    }
                    return Ok(());
                }
                let link = inherited.cloned().unwrap_or_else(|| own(true));
                self.walk(root, id, rel, &path, false, Some(&link), depth + 1)?;
            }
            Ok(Resolved::Gitlink { commit, path }) => {
                self.gitlink(rel, commit, &path)?;
            }
            Err(ResolveError::Escapes) => {
                if self.filter.keep(rel, false) {
                    self.findings.push(
                        Finding::new(
                            "symlink_escapes_repository",
                            Severity::High,
                            format!(
                                "symlink `{rel}` -> `{}` points outside the repository; cargo would have read a file from the publisher's disk",
                                escape(&text)
                            ),
                        )
                        .with_path(rel),
                    );
                    self.out.entry(rel.to_owned()).or_insert(Expected {
                        content: Content::External {
                            reason: "symlink points outside the repository".into(),
                        },
                        origin: Origin::Listed,
                        link: Some(own(false)),
                    });
                }
            }
            Err(e) => {
                if self.filter.keep(rel, false) {
                    self.fail(format!(
                        "symlink `{rel}` -> `{}` {} (cargo fails to open it for archiving)",
                        escape(&text),
                        e.describe()
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn gitlink(
        &mut self,
        rel: &str,
        commit: ObjectId,
        repo_path: &str,
    ) -> Result<(), Error> {
        let _ = repo_path;
        if let Ok(repo::CommitLookup::Found(c)) = self.repo.lookup_commit(&commit.to_string()) {
            // The submodule's commit is in this object store: list it like cargo lists an
            // initialized submodule (git semantics, its own root for symlinks).
            self.git_list(c.tree, c.tree, rel, "")?;
            return Ok(());
        }
        self.missing.push(MissingSubmodule {
            path: rel.to_owned(),
            commit: commit.to_string(),
        });
        Ok(())
    }
}
