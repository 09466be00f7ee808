//! Local mirrors: giving a local superproject its submodules.
//!
//! A local repository is opened in place and never written to. When it came through a mirror
//! and its commit has submodules whose commits it does not hold, the verification uses a cache
//! repository instead whose `objects/info/alternates` names the local repository's object
//! directory, and the submodule commits are fetched (or copied from their own local mirrors)
//! into that. Deviation from git: git would clone each submodule into its own repository; here
//! their objects share one object store, which is all cargo's file selection needs.

use std::sync::atomic::AtomicBool;

use gix::ObjectId;

use super::cache;
use super::error::Error;
use super::git;
use super::options::Options;
use super::transfer;
use super::want::{Fetched, Want};

/// A local repository reached through a mirror whose commit has submodules it lacks: switch
/// `fetched` to a cache repository that borrows the local objects (alternates) and holds the
/// submodule commits.
pub(super) fn with_submodules(
    declared: &str,
    fetched: &mut Fetched,
    want: &Want,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<(), Error> {
    let Some(commit) = want.commit_id()? else {
        return Ok(());
    };
    let Ok(local) = gix::open_opts(&fetched.path, gix::open::Options::isolated()) else {
        return Ok(());
    };
    if !git::has_commit(&local, commit) || !has_gitmodules(&local, commit) {
        return Ok(());
    }
    let objects = local.objects.store_ref().path().to_path_buf();
    let objects = std::fs::canonicalize(&objects).unwrap_or(objects);
    // The alternates file is line-based: a path with a line break could name another store.
    if objects.to_str().is_none_or(|p| p.contains(['\n', '\r'])) {
        return Ok(());
    }
    let cache = options.cache()?;
    let key = format!("file-overlay://{}", objects.display());
    let (repo_path, lock_path) = cache.repo_paths(&key);
    let _lock = cache::Lock::exclusive(&lock_path)?;
    let url = super::url::normalize_named(&fetched.path.display().to_string(), true)?;
    drop(git::open_bare(&repo_path, &url, options)?);
    let alternates = repo_path.join("objects").join("info").join("alternates");
    std::fs::create_dir_all(repo_path.join("objects").join("info")).map_err(|e| Error::Cache {
        path: alternates.display().to_string(),
        message: e.to_string(),
    })?;
    cache.write_atomic(&alternates, format!("{}\n", objects.display()).as_bytes())?;
    // Reopen: the alternates are read when the object store is opened.
    let repo = git::open_bare(&repo_path, &url, options)?;
    drop(local);
    let mut findings = Vec::new();
    transfer::submodules(
        &repo,
        declared,
        commit,
        want,
        options,
        &mut fetched.info,
        &mut findings,
        should_interrupt,
    )?;
    fetched.findings.extend(findings);
    fetched.path = repo_path;
    Ok(())
}

/// The submodules of `commit` (those under `path_in_vcs`, or that its symlinks lead into) for
/// a repository already fetched or opened at `path` without them — the assisted search's
/// winning candidate, which was not known when the repository was fetched. The result is a
/// cache repository that borrows `path`'s objects (alternates) and holds the submodule commits,
/// fetched through the mirrors as for a recorded commit (`with_submodules`); its `path` is
/// `path` itself when `commit` has no submodules to add. Unavailable submodules are findings.
pub fn submodules_at(
    declared: &str,
    path: &std::path::Path,
    commit: ObjectId,
    path_in_vcs: &str,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<Fetched, Error> {
    let mut fetched = Fetched {
        path: path.to_path_buf(),
        not_found: None,
        info: crate::report::RepoFetchInfo::default(),
        findings: Vec::new(),
        fetched_from: None,
        // Not consulted: the caller opens the result itself to evaluate one known commit.
        refs: None,
    };
    let want = Want {
        commit: Some(commit.to_string()),
        tags: Vec::new(),
        path_in_vcs: Some(path_in_vcs.to_owned()),
    };
    with_submodules(declared, &mut fetched, &want, options, should_interrupt)?;
    Ok(fetched)
}

fn has_gitmodules(repo: &gix::Repository, commit: ObjectId) -> bool {
    repo.find_commit(commit)
        .ok()
        .and_then(|c| c.tree().ok())
        .and_then(|t| t.lookup_entry_by_path(".gitmodules").ok().flatten())
        .is_some()
}
