//! Readme and license files (`build_ar_list`, spec §4.6): force-added whatever the filter says,
//! from inside the package, elsewhere in the repository (under their file name), or outside it
//! (a file cargo read from the publisher's disk).

use gix::ObjectId;

use super::error::Error;
use super::paths::{basename, comps, join, normalize};
use super::selection::{Content, Expected, Origin};
use super::tree::{Resolved, resolve};
use super::walker::Walker;
use super::workspace::{ReadmeChoice, Resolved2};
use crate::report::{Finding, Severity};

impl Walker<'_> {
    /// The forced files, in cargo's order: `license-file` first, then `readme` (or, since cargo
    /// 1.46, the first of `README.md`, `README.txt`, `README` when `readme` is absent).
    pub(super) fn forced_files(&mut self, root: ObjectId, r: &Resolved2) -> Result<(), Error> {
        let (repo, limits, rules) = (self.repo, self.limits, self.rules);
        let pkg = self.pkg.clone();
        if rules.force_license()
            && let Some(l) = &r.license_file
        {
            self.force(root, l, Origin::LicenseFile)?;
        }
        if rules.force_readme() {
            match &r.readme {
                ReadmeChoice::Path(p) => self.force(root, p, Origin::Readme)?,
                ReadmeChoice::Default(dir) if rules.default_readme() => {
                    for name in ["README.md", "README.txt", "README"] {
                        let value = join(dir, name);
                        let Some(abs) = normalize(&pkg, &value) else {
                            break;
                        };
                        if matches!(
                            resolve(repo, root, &comps(&abs), limits)?,
                            Ok(Resolved::File { .. })
                        ) {
                            self.force(root, &value, Origin::Readme)?;
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Force-add `readme` / `license-file` (`build_ar_list`, spec §4.6).
    pub(super) fn force(
        &mut self,
        root: ObjectId,
        value: &str,
        origin: Origin,
    ) -> Result<(), Error> {
        let what = if origin == Origin::Readme {
            "readme"
        } else {
            "license-file"
        };
        // cargo's `check_for_file_and_add` runs after the generated `Cargo.toml` (and, since
        // 1.84, `Cargo.lock`) are in the archive list: a readme/license-file resolving to one of
        // them is never added (found by fuzz/fuzz_targets/file_selection.rs).
        let rules = self.rules;
        let generated =
            |k: &str| k == "Cargo.toml" || (k == "Cargo.lock" && rules.lockfile_always());
        let Some(abs) = normalize(&self.pkg, value) else {
            let name = basename(value).to_owned();
            if !generated(&name) && !self.out.contains_key(&name) {
                self.findings.push(
                    Finding::new(
                        "outside_repository",
                        Severity::High,
                        format!("{what} `{value}` lies outside the repository; cargo read it from the publisher's disk"),
                    )
                    .with_path(name.clone()),
                );
                self.out.insert(
                    name,
                    Expected {
                        content: Content::External {
                            reason: format!("{what} outside the repository"),
                        },
                        origin,
                        link: None,
                    },
                );
            }
            return Ok(());
        };
        let inside = self.pkg.is_empty() || abs.starts_with(&format!("{}/", self.pkg));
        let key = if inside {
            abs[if self.pkg.is_empty() {
                0
            } else {
                self.pkg.len() + 1
            }..]
                .to_owned()
        } else {
            let name = basename(value.trim_end_matches('/')).to_owned();
            let conflict = generated(&name)
                || if self.rules.outside_conflict_root_only() {
                    self.out.contains_key(&name)
                } else {
                    self.out.keys().any(|k| basename(k) == name)
                };
            if conflict {
                return Ok(());
            }
            name
        };
        if inside && (generated(&key) || self.out.contains_key(&key)) {
            return Ok(());
        }
        match resolve(self.repo, root, &comps(&abs), self.limits)? {
            Ok(Resolved::File { id, exec, path }) => {
                self.out.insert(
                    key,
                    Expected {
                        content: Content::Blob {
                            id,
                            repo_path: path,
                            executable: exec,
                        },
                        origin,
                        link: None,
                    },
                );
            }
            _ => {
                if self.rules.missing_forced_is_error() {
                    self.fail(format!(
                        "{what} `{value}` does not appear to exist (relative to `{}`)",
                        self.pkg
                    ));
                } else {
                    self.findings.push(Finding::new(
                        "missing_forced_file",
                        Severity::Low,
                        format!(
                            "{what} `{value}` does not exist; the cargo of that time only warned"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
