//! The archive list around the listed files (`build_ar_list`, `check_filename`): reserved names,
//! the manifest as `Cargo.toml.orig`, no `Cargo.lock` or `Cargo.toml` from the tree, a build
//! script inside the package, no file name Windows cannot hold, and what git itself would say
//! about the tree.

use gix::ObjectId;

use super::error::Error;
use super::paths::{basename, comps, normalize};
use super::selection::{Content, Expected, Origin};
use super::tree::{Resolved, resolve};
use super::walker::Walker;
use crate::metadata::Manifest;
use crate::repo::Repo;
use crate::report::{Finding, Severity};
use crate::text::escape;

impl Walker<'_> {
    /// Reserved names, the manifest, the lock file: what cargo generates replaces what the tree
    /// holds.
    pub(super) fn generated_names(&mut self, root: ObjectId) -> Result<(), Error> {
        let (repo, limits, rules) = (self.repo, self.limits, self.rules);
        if self.out.contains_key(".cargo_vcs_info.json") {
            self.fail(
                "invalid inclusion of reserved file name `.cargo_vcs_info.json` in package source"
                    .into(),
            );
        }
        if rules.orig_reserved() && self.out.contains_key("Cargo.toml.orig") {
            self.fail(
                "invalid inclusion of reserved file name `Cargo.toml.orig` in package source"
                    .into(),
            );
        }
        self.out.remove("Cargo.lock");
        let manifest_keys: Vec<String> = self
            .out
            .keys()
            .filter(|k| {
                if rules.case_insensitive_manifest() {
                    k.eq_ignore_ascii_case("Cargo.toml")
                } else {
                    k.as_str() == "Cargo.toml"
                }
            })
            .cloned()
            .collect();
        for k in manifest_keys {
            self.out.remove(&k);
        }
        let mut mp = comps(&self.pkg);
        mp.push("Cargo.toml".into());
        if let Ok(Resolved::File { id, exec, path }) = resolve(repo, root, &mp, limits)? {
            self.out.insert(
                "Cargo.toml.orig".into(),
                Expected {
                    content: Content::Blob {
                        id,
                        repo_path: path,
                        executable: exec,
                    },
                    origin: Origin::Manifest,
                    link: None,
                },
            );
        }
        Ok(())
    }

    /// A custom build script must be a file inside the package (1.76+).
    pub(super) fn build_script_inside(&mut self, m: &Manifest) {
        let pkg = &self.pkg;
        if self.rules.build_outside_is_error()
            && let Some(Some(b)) = &m.build
        {
            let inside = normalize(pkg, b)
                .is_some_and(|abs| pkg.is_empty() || abs.starts_with(&format!("{pkg}/")));
            if !inside {
                self.fail(format!("the source file of build script `{b}` doesn't appear to be a path inside of the package"));
            }
        }
    }

    /// `check_filename`: no file name with a character Windows cannot hold.
    pub(super) fn check_filenames(&mut self) {
        for k in self.out.keys() {
            let name = basename(k);
            if let Some(c) = name
                .chars()
                .find(|c| matches!(c, '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*'))
            {
                let msg = format!(
                    "cannot package a filename with a special character `{c}`: `{}`",
                    escape(k.as_bytes())
                );
                self.package_error.get_or_insert(msg);
                break;
            }
        }
    }
}

/// Tree entries git refuses to check out, or accepts only with a warning.
pub(super) fn tree_findings(repo: &Repo) -> Vec<Finding> {
    let mut out = Vec::new();
    for (entries, kind, severity, what) in [
        (
            repo.invalid_entries(),
            "invalid_tree_entry",
            Severity::High,
            "git refuses to check out",
        ),
        (
            repo.tree_warnings(),
            "tree_fsck_warning",
            Severity::Low,
            "git accepts only with a warning",
        ),
    ] {
        if !entries.is_empty() {
            out.push(Finding::new(
                kind,
                severity,
                format!(
                    "the repository has tree entries {what}: {}",
                    entries.join(", ")
                ),
            ));
        }
    }
    out
}
