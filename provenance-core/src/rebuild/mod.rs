//! What `cargo package` would put into the archive, read straight from a git tree.
//!
//! Mirrors cargo's `src/cargo/sources/path.rs` (`_list_files`, `list_files_gix`,
//! `list_files_walk`) and `src/cargo/ops/cargo_package/mod.rs` (`build_ar_list`,
//! `check_filename`), as specified in shared/spec/cargo-package.md. The repository at the commit
//! is treated as a clean checkout: every file is tracked, nothing is untracked or ignored.
//!
//! ### Deviations from cargo
//! * Only the git tree is read: files a publisher had untracked in their work tree cannot be
//!   reproduced (they show up as `only_in_published`, explained only by `dirty`).
//! * Symlinks are resolved inside the tree; a link that leaves the repository is expected
//!   content we cannot know ([`Content::External`]), never read from our file system.
//! * Submodules are expanded only when the gitlink commit is available in the repository
//!   (offline); otherwise they are reported in [`Selection::missing_submodules`].
//! * Checkout filters (`eol`, `ident`, LFS smudge) are not applied.
//!
//! ### Layout
//! [`rebuild`] (this file) runs the steps; the rules live by family: `rules.rs` (what changed in
//! which cargo version), `workspace.rs` (inheritance), `locate.rs` (finding the package),
//! `tree.rs` (symlink resolution), `walker.rs` with `git_list.rs` (git mode, nested packages),
//! `walk.rs` (`include` walk), `links.rs` (symlinks, submodules), `force.rs` (readme,
//! license), `ar_list.rs` (reserved and generated names, build script, file names),
//! `patterns.rs` (`include`/`exclude`), `paths.rs`; `selection.rs` and `error.rs` hold the types.

mod ar_list;
mod error;
mod force;
mod git_list;
mod links;
mod locate;
mod paths;
mod patterns;
mod rules;
mod selection;
mod tree;
mod walk;
mod walker;
mod workspace;

pub use error::Error;
pub use locate::locate_package;
pub use patterns::Filter;
pub use rules::Rules;
pub use selection::{
    Content, Expected, Link, MissingSubmodule, Mode, Options, Origin, PackageLocation, Selection,
};
pub use workspace::workspace_dependencies;

use gix::ObjectId;

use crate::error::LimitError;
use crate::limits::Limits;
use crate::repo::{self, Repo};
use paths::comps;
use tree::{Resolved, read_manifest, resolve};
use walker::Walker;
use workspace::{Resolved2, resolve_manifest};

/// Compute what cargo's rules select from `commit` for the package at `location`.
pub fn rebuild(
    repo: &Repo,
    commit: &repo::CommitInfo,
    location: &PackageLocation,
    options: &Options,
) -> Result<Selection, Error> {
    let limits = &options.limits;
    let rules = options.rules;
    let pkg = location.path.clone();
    repo.reset_walk_budget();
    let root = commit.tree;
    let m = &location.manifest;
    let pkg_err = |message: String| Error::Package {
        path: pkg.clone(),
        message,
    };
    let r = resolve_manifest(repo, root, &pkg, m, limits)?;
    let patterns = (r.include.len() + r.exclude.len()) as u64;
    if patterns > limits.max_patterns {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_patterns",
            max: limits.max_patterns,
            value: patterns,
        }));
    }
    let mode = mode(repo, root, &pkg, &r, rules, limits);
    let filter = Filter::new(
        &r.include,
        if r.include.is_empty() {
            &r.exclude
        } else {
            &[]
        },
        rules.gitignore_patterns(),
        mode == Mode::WalkNoInclude,
    )
    .map_err(pkg_err)?;
    let Ok(Resolved::Dir { id: pkg_tree, .. }) = resolve(repo, root, &comps(&pkg), limits)? else {
        return Err(pkg_err("the package directory is not a directory".into()));
    };
    let mut w = Walker::new(repo, limits, rules, filter, pkg.clone());
    match mode {
        Mode::Git => w.git_list(root, pkg_tree, "", &pkg)?,
        Mode::WalkInclude | Mode::WalkNoInclude => {
            w.walk(root, pkg_tree, "", &pkg, true, None, 0)?;
        }
    }
    // build_ar_list: reserved names, the manifest, the lock file; forced files; the build script.
    w.generated_names(root)?;
    w.forced_files(root, &r)?;
    w.build_script_inside(m);
    w.check_filenames();
    if let Some(msg) = w.package_error {
        return Err(pkg_err(msg));
    }
    w.findings.extend(ar_list::tree_findings(repo));
    Ok(Selection {
        commit: commit.id,
        path_in_vcs: pkg,
        mode,
        rules,
        files: w.out,
        missing_submodules: w.missing,
        findings: w.findings,
        manifest: m.clone(),
    })
}

/// How cargo lists the files (spec §2.1): a walk filtered by `include` (1.20+), a walk without
/// git for a package with no manifest at the repository root (1.9–1.44), else git.
fn mode(
    repo: &Repo,
    root: ObjectId,
    pkg: &str,
    r: &Resolved2,
    rules: Rules,
    limits: &Limits,
) -> Mode {
    if !r.include.is_empty() && rules.cargo_minor >= 20 {
        Mode::WalkInclude
    } else if (9..=44).contains(&rules.cargo_minor)
        && !pkg.is_empty()
        && read_manifest(repo, root, "", limits)
            .ok()
            .flatten()
            .is_none()
    {
        Mode::WalkNoInclude
    } else {
        Mode::Git
    }
}
