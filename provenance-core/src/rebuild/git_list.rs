//! Git mode (`list_files_gix`): every tracked entry of the package's tree, nested packages (any
//! directory below the root with a `Cargo.toml`) removed.

use std::collections::BTreeSet;

use gix::ObjectId;

use super::error::Error;
use super::paths::{dirname, join};
use super::selection::Content;
use super::walker::Walker;
use crate::error::LimitError;
use crate::repo::{self, NodeKind};
use crate::text::escape;

impl Walker<'_> {
    /// GIT mode: every tracked entry under `tree` (at package path `rel_prefix`, repository path
    /// `repo_prefix` inside `root`), nested packages removed.
    pub(super) fn git_list(
        &mut self,
        root: ObjectId,
        tree: ObjectId,
        rel_prefix: &str,
        repo_prefix: &str,
    ) -> Result<(), Error> {
        let mut entries: Vec<(String, String, repo::TreeEntry)> = Vec::new();
        let mut stack = vec![(tree, rel_prefix.to_owned(), repo_prefix.to_owned(), 0u64)];
        while let Some((t, rel, rp, depth)) = stack.pop() {
            if depth > self.limits.max_tree_depth {
                return Err(Error::LimitExceeded(LimitError {
                    limit: "max_tree_depth",
                    max: self.limits.max_tree_depth,
                    value: depth,
                }));
            }
            for e in self.repo.tree(t)?.iter() {
                let r = join(&rel, &e.name);
                let p = join(&rp, &e.name);
                if e.kind == NodeKind::Tree {
                    stack.push((e.id, r, p, depth + 1));
                } else {
                    entries.push((r, p, e.clone()));
                }
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // Nested packages: any listed `D/Cargo.toml` with D != package root.
        let nested: BTreeSet<String> = entries
            .iter()
            .filter(|(r, _, e)| e.name == "Cargo.toml" && !dirname(r).is_empty())
            .map(|(r, _, _)| dirname(r).to_owned())
            .collect();
        let under_nested = |r: &str| {
            nested
                .iter()
                .any(|d| r.starts_with(d.as_str()) && r.as_bytes().get(d.len()) == Some(&b'/'))
        };
        for (rel, rp, e) in entries {
            if under_nested(&rel) {
                continue;
            }
            if !e.utf8 && self.filter.keep(&rel, false) {
                self.fail(format!(
                    "non-utf8 path in source directory: `{}`",
                    escape(rel.as_bytes())
                ));
                continue;
            }
            match e.kind {
                NodeKind::Blob | NodeKind::Executable => self.add(
                    rel,
                    Content::Blob {
                        id: e.id,
                        repo_path: rp,
                        executable: e.kind == NodeKind::Executable,
                    },
                    None,
                ),
                NodeKind::Link => self.link(root, &rel, &rp, e.id, None, 0)?,
                NodeKind::Gitlink => self.gitlink(&rel, e.id, &rp)?,
                NodeKind::Tree => {}
            }
        }
        Ok(())
    }
}
