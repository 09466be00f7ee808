//! Walk mode (`list_files_walk`): the file-system walk used for `include`, old no-git packaging
//! and directories reached through symlinks: nested packages and the `target` directory pruned,
//! file-system loops skipped.

use gix::ObjectId;

use super::error::Error;
use super::paths::{comps, dirname, join};
use super::selection::{Content, Link};
use super::tree::{Resolved, resolve};
use super::walker::Walker;
use crate::error::LimitError;
use crate::repo::NodeKind;
use crate::report::{Finding, Severity};
use crate::text::escape;

impl Walker<'_> {
    /// WALK semantics (`list_files_walk`): used for `include`, old no-git packaging and
    /// directories reached through symlinks.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn walk(
        &mut self,
        root: ObjectId,
        tree: ObjectId,
        rel: &str,
        repo_path: &str,
        is_root: bool,
        link: Option<&Link>,
        depth: u64,
    ) -> Result<(), Error> {
        if depth > self.limits.max_tree_depth {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_tree_depth",
                max: self.limits.max_tree_depth,
                value: depth,
            }));
        }
        let entries = self.repo.tree(tree)?;
        if !is_root {
            if !self.filter.keep(rel, true) {
                return Ok(());
            }
            // A sub-directory with a `Cargo.toml` (following symlinks) is another package.
            let mut p = comps(repo_path);
            p.push("Cargo.toml".into());
            if entries.iter().any(|e| e.name == "Cargo.toml")
                && resolve(self.repo, root, &p, self.limits)?.is_ok()
            {
                return Ok(());
            }
        }
        if self.walking.iter().any(|(id, p)| {
            *id == tree
                && (repo_path == p || repo_path.starts_with(&format!("{p}/")) || p.is_empty())
        }) && !is_root
        {
            self.findings.push(
                Finding::new(
                    "symlink_loop",
                    Severity::Low,
                    format!("file system loop found at `{rel}`; cargo skips it"),
                )
                .with_path(rel),
            );
            return Ok(());
        }
        self.walking.push((tree, repo_path.to_owned()));
        for e in entries.iter() {
            let child = join(rel, &e.name);
            let child_repo = join(repo_path, &e.name);
            let at_pkg_root = is_root && rel.is_empty();
            if self.rules.walk_skips_dotfiles() && e.name.starts_with('.') {
                continue;
            }
            if !e.utf8 && self.filter.keep(&child, false) {
                self.fail(format!(
                    "non-utf8 path in source directory: `{}`",
                    escape(child.as_bytes())
                ));
                continue;
            }
            match e.kind {
                NodeKind::Tree => {
                    if at_pkg_root && e.name == "target" {
                        continue;
                    }
                    self.walk(root, e.id, &child, &child_repo, false, link, depth + 1)?;
                }
                NodeKind::Blob | NodeKind::Executable => {
                    if at_pkg_root && e.name == "target" && self.rules.walk_target_file_pruned() {
                        continue;
                    }
                    self.add(
                        child,
                        Content::Blob {
                            id: e.id,
                            repo_path: child_repo,
                            executable: e.kind == NodeKind::Executable,
                        },
                        link.cloned(),
                    );
                }
                NodeKind::Link => {
                    if at_pkg_root && e.name == "target" {
                        let mut p = comps(dirname(&child_repo));
                        p.push(e.name.clone());
                        if matches!(
                            resolve(self.repo, root, &p, self.limits)?,
                            Ok(Resolved::Dir { .. })
                        ) {
                            continue;
                        }
                    }
                    self.link(root, &child, &child_repo, e.id, link, depth)?;
                }
                NodeKind::Gitlink => {
                    if !self.filter.keep(&child, true) {
                        continue;
                    }
                    self.gitlink(&child, e.id, &child_repo)?;
                }
            }
        }
        self.walking.pop();
        Ok(())
    }
}
