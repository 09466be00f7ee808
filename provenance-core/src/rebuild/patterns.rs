//! `package.include` / `package.exclude` matching.
//!
//! Mirrors cargo's `src/cargo/sources/path.rs` (`_list_files`, the `filter` closure): since
//! cargo 1.36 the patterns go through the `ignore` crate's `GitignoreBuilder::add_line` and are
//! tested per path with `matched_path_or_any_parents`; up to 1.35 they were `glob` patterns
//! matched against the whole relative path, where `*` also matched `/` (spec §3).

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// The package's file filter for one cargo era.
#[derive(Debug)]
pub struct Filter {
    include_empty: bool,
    gitignore: Option<(Gitignore, Gitignore)>,
    globs: Option<(Vec<globset::GlobMatcher>, Vec<globset::GlobMatcher>)>,
    dot_excluded: bool,
    force_manifest: bool,
}

const ROOT: &str = "/__package_root__";

fn build(patterns: &[String]) -> Result<Gitignore, String> {
    let mut b = GitignoreBuilder::new(ROOT);
    for p in patterns {
        b.add_line(None, p)
            .map_err(|e| format!("invalid pattern `{p}`: {e}"))?;
    }
    b.build().map_err(|e| e.to_string())
}

fn glob(p: &str) -> Result<globset::GlobMatcher, String> {
    let p = p.strip_prefix('/').unwrap_or(p);
    globset::GlobBuilder::new(p)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid pattern `{p}`: {e}"))
}

impl Filter {
    /// Build the filter. `gitignore_semantics` selects cargo ≥ 1.36 behaviour (else the glob
    /// semantics of ≤ 1.35); `dot_excluded` adds the `.*` rule of a WALK without `include`.
    pub fn new(
        include: &[String],
        exclude: &[String],
        gitignore_semantics: bool,
        dot_excluded: bool,
    ) -> Result<Filter, String> {
        let (gitignore, globs) = if gitignore_semantics {
            (Some((build(include)?, build(exclude)?)), None)
        } else {
            let inc = include.iter().map(|p| glob(p)).collect::<Result<_, _>>()?;
            let exc = exclude.iter().map(|p| glob(p)).collect::<Result<_, _>>()?;
            (None, Some((inc, exc)))
        };
        Ok(Filter {
            include_empty: include.is_empty(),
            gitignore,
            globs,
            dot_excluded,
            force_manifest: gitignore_semantics,
        })
    }

    /// Whether `include` is empty (cargo uses git only then).
    pub fn include_is_empty(&self) -> bool {
        self.include_empty
    }

    /// Cargo's `filter(path, is_dir)`: whether a package-relative path is kept.
    pub fn keep(&self, rel: &str, is_dir: bool) -> bool {
        if self.force_manifest && !is_dir && (rel == "Cargo.toml" || rel == "Cargo.lock") {
            return true;
        }
        if self.dot_excluded && rel.split('/').any(|c| c.starts_with('.')) {
            return false;
        }
        if let Some((inc, exc)) = &self.gitignore {
            let path: PathBuf = Path::new(ROOT).join(rel);
            if self.include_empty {
                !exc.matched_path_or_any_parents(&path, is_dir).is_ignore()
            } else if is_dir {
                true
            } else {
                inc.matched_path_or_any_parents(&path, false).is_ignore()
            }
        } else if let Some((inc, exc)) = &self.globs {
            // ≤ 1.35: the filter only ever saw files.
            if is_dir {
                return true;
            }
            inc.iter().any(|g| g.is_match(rel))
                || (inc.is_empty() && !exc.iter().any(|g| g.is_match(rel)))
        } else {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn cargo_exclude_examples() {
        // From cargo's tests/testsuite/package.rs::exclude (spec §3.1).
        let f = Filter::new(
            &[],
            &s(&[
                "/file_root_2",
                "file_root_3/",
                "dir_root_4/*",
                "dir_deep_4/*",
                "dir_deep_1",
            ]),
            true,
            false,
        )
        .unwrap();
        assert!(!f.keep("file_root_2", false));
        assert!(f.keep("some_dir/file_root_2", false));
        assert!(f.keep("file_root_3", false));
        assert!(!f.keep("dir_root_4/x", false));
        assert!(f.keep("some_dir/dir_deep_4/x", false));
        assert!(!f.keep("some_dir/dir_deep_1/x", false));
        assert!(f.keep("Cargo.toml", false));
    }

    #[test]
    fn negation_reincludes_in_git_mode() {
        let f = Filter::new(&[], &s(&["tests/", "!tests/keep.rs"]), true, false).unwrap();
        assert!(f.keep("tests/keep.rs", false));
        assert!(!f.keep("tests/other.rs", false));
    }

    #[test]
    fn old_glob_star_crosses_slash() {
        let f = Filter::new(&[], &s(&["*.txt", "tests"]), false, false).unwrap();
        assert!(!f.keep("docs/a.txt", false));
        assert!(f.keep("tests/a.rs", false));
    }
}
