//! The network part of a repository fetch: the commit by id (or every branch and tag when the
//! server refuses), its reachability from an advertised ref, the version tags when there is no
//! commit, and the gitlink commits of submodules.

use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::remote::fetch::Shallow;

use super::copy;
use super::error::Error;
use super::git;
use super::links;
use super::mirror;
use super::options::Options;
use super::url::{self, RepoUrl};
use super::want::Want;
use crate::report::{Finding, RepoFetchInfo, Severity, SubmoduleInfo};

fn add(info: &mut RepoFetchInfo, r: &git::Received) {
    info.objects += r.objects;
    info.bytes += r.bytes;
}

/// The network part of [`repository`](super::repository). Returns whether the commit (or,
/// without one, anything) is now available. `obtained` receives the refs this fetch wrote for
/// this version (`(local ref name, target)`): the only refs its verification may consult, so
/// that its findings do not depend on what other fetches left in the shared cache.
#[allow(clippy::too_many_arguments)]
pub(super) fn fetch_into(
    repo: &gix::Repository,
    url: &RepoUrl,
    commit: Option<ObjectId>,
    want: &Want,
    options: &Options,
    info: &mut RepoFetchInfo,
    obtained: &mut Vec<(String, ObjectId)>,
    should_interrupt: &AtomicBool,
) -> Result<bool, git::Failure> {
    let depth1 = Shallow::DepthAtRemote(1.try_into().expect("non-zero"));
    let Some(commit) = commit else {
        // No commit: fetch the version tags (for the assisted attempt), by id, depth 1.
        info.strategy = "tags".into();
        let listed = git::fetch(
            repo,
            url,
            &["+refs/heads/*:refs/provenance/ignored/*".into()],
            Shallow::NoChange,
            true,
            options,
            should_interrupt,
        )?;
        fetch_tags(
            repo,
            url,
            &listed.refs,
            &want.tags,
            options,
            info,
            obtained,
            should_interrupt,
        )?;
        return Ok(true);
    };
    if git::has_commit(repo, commit) {
        info.strategy = "cache".into();
        info.from_cache = true;
    }
    let by_id = git::fetch(
        repo,
        url,
        &[commit.to_string()],
        depth1,
        false,
        options,
        should_interrupt,
    );
    let refs = match by_id {
        Ok(r) => {
            info.strategy = "want_by_id".into();
            info.depth = Some(1);
            info.commit_objects = r.objects;
            add(info, &r);
            r.refs
        }
        Err(git::Failure::Refused(_)) => {
            return all_refs(repo, url, commit, options, info, obtained, should_interrupt);
        }
        Err(e) => return Err(e),
    };
    if !git::has_commit(repo, commit) {
        return Ok(false);
    }
    if let Some(r) = git::tip_ref(&refs, commit) {
        info.reachable_from = Some(r);
        return Ok(true);
    }
    deepen_to(repo, url, commit, &refs, options, info, should_interrupt)
}

/// The server refused the commit id: fetch every branch and tag (full history), then look for
/// the commit among them. The advertised branches and tags are this version's refs.
fn all_refs(
    repo: &gix::Repository,
    url: &RepoUrl,
    commit: ObjectId,
    options: &Options,
    info: &mut RepoFetchInfo,
    obtained: &mut Vec<(String, ObjectId)>,
    should_interrupt: &AtomicBool,
) -> Result<bool, git::Failure> {
    info.strategy = "all_refs".into();
    info.depth = None;
    let shallow = if repo.is_shallow().unwrap_or(true) {
        Shallow::undo()
    } else {
        Shallow::NoChange
    };
    let r = git::fetch(
        repo,
        url,
        &[
            "+refs/heads/*:refs/heads/*".into(),
            "+refs/tags/*:refs/tags/*".into(),
        ],
        shallow,
        false,
        options,
        should_interrupt,
    )?;
    info.commit_objects = r.objects;
    add(info, &r);
    obtained.extend(
        r.refs
            .iter()
            .filter(|x| git::is_branch_or_tag(&x.name))
            .map(|x| (x.name.clone(), x.target)),
    );
    if !git::has_commit(repo, commit) {
        return Ok(false);
    }
    let tips: Vec<(String, ObjectId)> = r
        .refs
        .iter()
        .filter(|x| git::is_branch_or_tag(&x.name))
        .map(|x| (x.name.clone(), x.tip()))
        .collect();
    info.reachable_from = git::reaches(repo, &tips, commit, None, options.limits.max_tree_entries);
    Ok(true)
}

/// The commit is not an advertised tip: fetch the branches back to the commit's time and walk
/// them to find one it is reachable from.
fn deepen_to(
    repo: &gix::Repository,
    url: &RepoUrl,
    commit: ObjectId,
    refs: &[git::RemoteRef],
    options: &Options,
    info: &mut RepoFetchInfo,
    should_interrupt: &AtomicBool,
) -> Result<bool, git::Failure> {
    let heads: Vec<&git::RemoteRef> = refs
        .iter()
        .filter(|r| r.name.starts_with("refs/heads/"))
        .collect();
    if heads.is_empty() {
        return Ok(true);
    }
    let Some(time) = git::commit_time(repo, commit) else {
        return Ok(true);
    };
    match git::fetch_heads_since(repo, url, time, options, should_interrupt) {
        Ok(r) => {
            add(info, &r);
            let tips: Vec<(String, ObjectId)> =
                heads.iter().map(|h| (h.name.clone(), h.tip())).collect();
            info.reachable_from = git::reaches(
                repo,
                &tips,
                commit,
                Some(time.saturating_sub(1)),
                options.limits.max_tree_entries,
            );
        }
        Err(git::Failure::Error(e)) => return Err(git::Failure::Error(e)),
        // The server could not deepen by time: leave reachability undetermined (finding).
        Err(_) => {}
    }
    Ok(true)
}

/// Fetch the advertised tags among `wanted` (by peeled id, depth 1) and point local
/// `refs/tags/…` at them (recorded in `obtained`).
#[allow(clippy::too_many_arguments)]
fn fetch_tags(
    repo: &gix::Repository,
    url: &RepoUrl,
    refs: &[git::RemoteRef],
    wanted: &[String],
    options: &Options,
    info: &mut RepoFetchInfo,
    obtained: &mut Vec<(String, ObjectId)>,
    should_interrupt: &AtomicBool,
) -> Result<(), git::Failure> {
    let hits: Vec<&git::RemoteRef> = refs.iter().filter(|r| wanted.contains(&r.name)).collect();
    let ids: Vec<String> = hits
        .iter()
        .map(|r| r.tip().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let depth1 = Shallow::DepthAtRemote(1.try_into().expect("non-zero"));
    let r = git::fetch(repo, url, &ids, depth1, false, options, should_interrupt)?;
    add(info, &r);
    info.depth = Some(1);
    for h in hits {
        if git::has_commit(repo, h.tip()) {
            git::set_ref(repo, &h.name, h.tip());
            obtained.push((h.name.clone(), h.tip()));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
///
/// Relative submodule URLs are resolved against `declared`, the superproject's declared URL
/// (not the mirror it may have been fetched from), then rewritten by `options.mirrors`.
pub(super) fn submodules(
    repo: &gix::Repository,
    declared: &str,
    commit: ObjectId,
    want: &Want,
    options: &Options,
    info: &mut RepoFetchInfo,
    findings: &mut Vec<Finding>,
    should_interrupt: &AtomicBool,
) -> Result<(), Error> {
    let Ok(c) = repo.find_commit(commit) else {
        return Ok(());
    };
    let Ok(tree) = c.tree() else { return Ok(()) };
    let Ok(Some(entry)) = tree.lookup_entry_by_path(".gitmodules") else {
        return Ok(());
    };
    let Ok(obj) = entry.object() else {
        return Ok(());
    };
    if obj.kind != gix::object::Kind::Blob || obj.data.len() > (1 << 20) {
        return Ok(());
    }
    let Ok(file) = gix::config::File::from_bytes_no_includes(
        &obj.data,
        gix::config::file::Metadata::api(),
        gix::config::file::init::Options::default(),
    ) else {
        findings.push(Finding::new(
            "submodule_unavailable",
            Severity::Medium,
            "`.gitmodules` cannot be parsed",
        ));
        return Ok(());
    };
    let mut subs: Vec<(String, String)> = Vec::new();
    if let Some(sections) = file.sections_by_name("submodule") {
        for s in sections {
            let path = s.value("path").map(|v| v.to_string());
            let url = s.value("url").map(|v| v.to_string());
            if let (Some(p), Some(u)) = (path, url) {
                subs.push((p.trim_end_matches('/').to_owned(), u));
            }
        }
    }
    subs.sort();
    subs.dedup();
    let base = url::normalize(declared, options.allow_insecure_transport)
        .map_or_else(|_| declared.to_owned(), |u| u.fetch_url);
    let under = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
    let pkg = want.path_in_vcs.as_deref().filter(|p| !p.is_empty());
    // Symlinks in the package may point into a submodule outside it (`src/generated` ->
    // `../../generated/Foundation`): those submodules are needed too.
    let link_targets = pkg.map(|p| links::targets(repo, &tree, p, options.limits.max_tree_entries));
    for (path, raw) in subs.into_iter().take(256) {
        if let Some(pkg) = pkg
            && !(under(&path, pkg) || under(pkg, &path))
            && !link_targets
                .iter()
                .flatten()
                .any(|t| under(t, &path) || under(&path, t))
        {
            continue;
        }
        let Ok(Some(e)) = tree.lookup_entry_by_path(path.as_str()) else {
            continue;
        };
        if !e.mode().is_commit() {
            continue;
        }
        let sub_commit = e.object_id();
        let resolved = url::resolve_relative(&base, &raw);
        let mut record = SubmoduleInfo {
            path: crate::text::escape(path.as_bytes()),
            url: crate::text::escape(resolved.as_bytes()),
            commit: sub_commit.to_string(),
            available: git::has_commit(repo, sub_commit),
            fetched_from: None,
        };
        if !record.available {
            let outcome = match mirror::target(
                &resolved,
                &options.mirrors,
                options.allow_insecure_transport,
            ) {
                Err(e) => Err(e.to_string()),
                Ok(t) => {
                    if t.mirrored.is_some() {
                        record.fetched_from = Some(crate::text::escape(t.url.fetch_url.as_bytes()));
                    }
                    fetch_submodule(repo, &t, sub_commit, options, info, should_interrupt)?
                }
            };
            record.available = git::has_commit(repo, sub_commit);
            if !record.available {
                let why = outcome
                    .err()
                    .unwrap_or_else(|| "the commit was not sent".into());
                findings.push(Finding::new(
                    "submodule_unavailable",
                    Severity::Medium,
                    format!(
                        "submodule `{}` commit `{sub_commit}` from `{}` is unavailable: {why}",
                        record.path, record.url
                    ),
                ));
            }
        }
        info.submodules.push(record);
    }
    Ok(())
}

/// Fetch one submodule commit from `target` into `repo` (copied from a local mirror, fetched by
/// id with depth 1 otherwise). `Ok(Err(why))`: unavailable; `Err`: interrupted.
fn fetch_submodule(
    repo: &gix::Repository,
    target: &mirror::Target,
    commit: ObjectId,
    options: &Options,
    info: &mut RepoFetchInfo,
    should_interrupt: &AtomicBool,
) -> Result<Result<(), String>, Error> {
    let depth1 = Shallow::DepthAtRemote(1.try_into().expect("non-zero"));
    let u = &target.url;
    if let Some(path) = &u.local_path {
        if target.mirrored.is_none() {
            return Ok(Err("local submodule URLs are not fetched".to_owned()));
        }
        return match copy::commit(path, repo, commit, options, should_interrupt) {
            Ok(objects) => {
                info.objects += objects;
                Ok(Ok(()))
            }
            Err(Error::Interrupted) => Err(Error::Interrupted),
            Err(e) => Ok(Err(e.to_string())),
        };
    }
    Ok(
        match git::fetch(
            repo,
            u,
            &[commit.to_string()],
            depth1,
            false,
            options,
            should_interrupt,
        ) {
            Ok(r) => {
                add(info, &r);
                Ok(())
            }
            Err(git::Failure::Error(Error::Interrupted)) => return Err(Error::Interrupted),
            Err(git::Failure::Error(e)) => Err(e.to_string()),
            Err(git::Failure::NotFound(m) | git::Failure::Refused(m)) => Err(m),
        },
    )
}
