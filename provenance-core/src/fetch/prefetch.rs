//! One fetch for many commits of one repository (a scan's versions of it): every wanted
//! commit in one negotiation, by id, depth 1; then, only for commits that are not the tip of
//! an advertised branch or tag, one `deepen-since` of the branches back to the oldest of them
//! to establish reachability. For every commit that arrived, the cache record a per-version
//! [`repository`](super::repository()) fetch would have written is written (reachability,
//! `commit_not_on_any_ref`, submodules, which stay per commit), so each verification then
//! replays it and fetches nothing.
//!
//! A server that lacks one of the commits refuses the whole request: then, as a per-version
//! fetch of that commit would, the prefetch fetches every branch and tag (full history) once;
//! the commits the repository has are recorded as above, and the answer for each missing commit
//! (and, when the repository does not exist, for every commit) is recorded *for this batch run
//! only* (`Options::batch_run`): the verifications of the scan replay it, a later run asks again.
//!
//! A prefetch never decides anything else: when it cannot run (offline, a refused or local URL,
//! a preflight answer, a limit, a network error) it writes no record and says why in
//! [`Prefetched::skipped`]; each verification then fetches on its own exactly as without a
//! prefetch, with its own error and verdict mapping. Deviation from a
//! per-version fetch: the report's transfer figures (`strategy` `prefetch`, `objects`,
//! `bytes`) are not those of a per-version fetch: the pack is shared, its totals are in
//! [`Prefetched`].

use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::remote::fetch::Shallow;

use super::cache;
use super::error::Error;
use super::git;
use super::options::Options;
use super::repository as single;
use super::url::Transport;
use super::want::Want;
use crate::report::RepoFetchInfo;

/// What a [`prefetch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Prefetched {
    /// The normalized URL fetched from (empty when the URL was refused before that).
    pub url: String,
    /// Distinct commits wanted.
    pub wanted: usize,
    /// Commits the cache already had a record for.
    pub cached: usize,
    /// Commits whose record this prefetch wrote (for this run only, too).
    pub recorded: usize,
    /// Fetch negotiations (upload-pack requests) made: 0, 1, or 2 (with a deepen, or every
    /// branch and tag after the server refused a commit it does not have).
    pub requests: u32,
    /// Objects received.
    pub objects: u64,
    /// Pack bytes received (submodule fetches excluded: they stay per commit).
    pub bytes: u64,
    /// Why nothing (or not everything) was prefetched; verification then fetches on its own.
    pub skipped: Option<String>,
}

/// How the one negotiation for all wanted commits by id ended.
enum ById {
    /// Every commit was sent.
    Received(git::Received),
    /// The server does not have (at least) one of them and refused the request.
    Refused,
    /// The repository does not exist, is not git, or access was denied: the message.
    NotFound(String),
    /// Anything else: nothing prefetched, for this reason.
    Failed(String),
}

/// The wanted commits by id, depth 1, in one negotiation.
fn wanted_by_id(
    repo: &gix::Repository,
    url: &super::url::RepoUrl,
    todo: &[(ObjectId, &(String, Want))],
    options: &Options,
    done: &mut Prefetched,
    should_interrupt: &AtomicBool,
) -> Result<ById, Error> {
    let depth1 = Shallow::DepthAtRemote(1.try_into().expect("non-zero"));
    let ids: Vec<String> = todo.iter().map(|(c, _)| c.to_string()).collect();
    done.requests += 1;
    match git::fetch(repo, url, &ids, depth1, false, options, should_interrupt) {
        Ok(r) => Ok(ById::Received(r)),
        Err(git::Failure::Error(Error::Interrupted)) => Err(Error::Interrupted),
        Err(git::Failure::Error(e)) => Ok(ById::Failed(e.to_string())),
        Err(git::Failure::NotFound(m)) => Ok(ById::NotFound(m)),
        Err(git::Failure::Refused(_)) => Ok(ById::Refused),
    }
}

/// The server refused the commits by id (it lacks one of them): every branch and tag with full
/// history, in one more negotiation, as a per-version fetch of a refused commit does
/// (`all_refs`); then every commit the repository has is in the cache.
fn all_refs(
    repo: &gix::Repository,
    url: &super::url::RepoUrl,
    options: &Options,
    done: &mut Prefetched,
    should_interrupt: &AtomicBool,
) -> Result<Result<git::Received, String>, Error> {
    let shallow = if repo.is_shallow().unwrap_or(true) {
        Shallow::undo()
    } else {
        Shallow::NoChange
    };
    done.requests += 1;
    let specs = [
        "+refs/heads/*:refs/heads/*".to_owned(),
        "+refs/tags/*:refs/tags/*".to_owned(),
    ];
    match git::fetch(repo, url, &specs, shallow, false, options, should_interrupt) {
        Ok(r) => Ok(Ok(r)),
        Err(git::Failure::Error(Error::Interrupted)) => Err(Error::Interrupted),
        Err(e) => Ok(Err(format!("fetching every branch and tag failed: {e:?}"))),
    }
}

/// For batch run `run`: the answer a per-version fetch of each commit in `todo` would get
/// (`answer`), with the figures `info` of the fetch that learned it, recorded for that run.
/// Only wants spelled as the URL fetched from: another spelling's own fetch would say its own
/// URL in the message; it asks itself.
#[allow(clippy::too_many_arguments)]
fn record_for_run(
    cache: &cache::Cache,
    repo_path: &std::path::Path,
    url: &super::url::RepoUrl,
    todo: &[(ObjectId, &(String, Want))],
    info: &RepoFetchInfo,
    run: &str,
    answer: &single::RunAnswer,
    options: &Options,
    done: &mut Prefetched,
) -> Result<(), Error> {
    for (c, (declared, w)) in todo {
        match single::target(declared, true, options) {
            Ok(Ok((u, _))) if u.fetch_url == url.fetch_url => {}
            _ => continue,
        }
        let path = git::record_path(repo_path, &single::record_key(Some(*c), w));
        single::write_run_record(cache, &path, info, run, answer.clone())?;
        done.recorded += 1;
    }
    Ok(())
}

/// Fetch every commit of `wants` (`(declared package.repository, want)` pairs whose URLs are
/// spellings of one repository; the first is fetched from) in one negotiation and record each
/// for verification, with its own declared URL (as its own fetch would have).
///
/// `Err` only when interrupted or the cache is unusable; every other failure is
/// [`Prefetched::skipped`].
///
/// Long because it is the per-version fetch's sequence (policy, cache, preflight, fetch,
/// reachability, records) for many commits, in that order, each step short.
pub fn prefetch(
    wants: &[(String, Want)],
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<Prefetched, Error> {
    let mut done = Prefetched::default();
    let skip = |mut d: Prefetched, why: String| {
        d.skipped = Some(why);
        Ok(d)
    };
    let Some((raw_url, _)) = wants.first() else {
        return Ok(done);
    };
    let url = match single::target(raw_url, true, options) {
        Ok(Ok((url, _))) => url,
        Ok(Err(_)) => return skip(done, "refused by policy".into()),
        Err(e) => return skip(done, e.to_string()),
    };
    done.url.clone_from(&url.fetch_url);
    if url.local_path.is_some() {
        return skip(done, "a local repository is opened in place".into());
    }
    if options.offline {
        return skip(done, "offline".into());
    }
    // Distinct commits, first want first (as a sequential scan would record them).
    let mut todo: Vec<(ObjectId, &(String, Want))> = Vec::new();
    for w in wants {
        if let Ok(Some(c)) = w.1.commit_id()
            && !todo.iter().any(|(x, _)| *x == c)
        {
            todo.push((c, w));
        }
    }
    done.wanted = todo.len();
    let cache = options.cache()?;
    let (repo_path, lock_path) = cache.repo_paths(&url.key);
    let _lock = cache::Lock::exclusive(&lock_path)?;
    let repo = git::open_bare(&repo_path, &url, options)?;
    todo.retain(|(c, w)| {
        let path = git::record_path(&repo_path, &single::record_key(Some(*c), &w.1));
        let mut info = RepoFetchInfo::default();
        !single::replay(
            &path,
            &repo,
            (Some(*c), options.batch_run.as_deref()),
            &mut info,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut None,
        )
    });
    done.cached = done.wanted - todo.len();
    if todo.is_empty() {
        return Ok(done);
    }
    if matches!(url.transport, Transport::Https | Transport::Http) {
        match single::preflight_stoppable(&url, options, should_interrupt)? {
            Ok(None) => {}
            Ok(Some(message)) => return skip(done, message),
            Err(e) => return skip(done, e.to_string()),
        }
    }
    let run = options.batch_run.as_deref();
    let (received, full) =
        match wanted_by_id(&repo, &url, &todo, options, &mut done, should_interrupt)? {
            ById::Received(r) => (r, false),
            ById::NotFound(m) => {
                // Every version would be told the same: recorded for this run (else each asks).
                if let Some(run) = run {
                    let info = RepoFetchInfo {
                        url: url.fetch_url.clone(),
                        ..RepoFetchInfo::default()
                    };
                    let message = format!("cannot fetch `{}`: {m}", url.fetch_url);
                    let answer = single::RunAnswer::NotFound(message);
                    record_for_run(
                        &cache, &repo_path, &url, &todo, &info, run, &answer, options, &mut done,
                    )?;
                }
                return skip(done, m);
            }
            ById::Failed(why) => return skip(done, why),
            ById::Refused => match all_refs(&repo, &url, options, &mut done, should_interrupt)? {
                Ok(r) => (r, true),
                Err(why) => return skip(done, why),
            },
        };
    done.objects += received.objects;
    done.bytes += received.bytes;
    // Reachability, as `transfer::fetch_into` establishes it for one commit.
    let mut reach: Vec<(ObjectId, &(String, Want), Option<String>)> = Vec::new();
    let mut deep: Vec<(ObjectId, &(String, Want), i64)> = Vec::new();
    let mut missing = Vec::new();
    for (c, w) in todo {
        if !git::has_commit(&repo, c) {
            missing.push((c, w));
            continue;
        }
        match git::tip_ref(&received.refs, c) {
            Some(r) => reach.push((c, w, Some(r))),
            None => match git::commit_time(&repo, c) {
                Some(t) => deep.push((c, w, t)),
                None => reach.push((c, w, None)),
            },
        }
    }
    let heads: Vec<(String, ObjectId)> = received
        .refs
        .iter()
        .filter(|r| r.name.starts_with("refs/heads/"))
        .map(|r| (r.name.clone(), r.tip()))
        .collect();
    if heads.is_empty() {
        reach.extend(deep.drain(..).map(|(c, w, _)| (c, w, None)));
    }
    if full {
        // After every branch and tag with full history: no deepen needed; the same walk a
        // per-version deepen does (the branches, back to the commit's time).
        let max = options.limits.max_tree_entries;
        for (c, w, t) in deep.drain(..) {
            let from = git::reaches(&repo, &heads, c, Some(t.saturating_sub(1)), max);
            reach.push((c, w, from));
        }
        // Not in the repository: what a per-version fetch (refused, then every branch and tag)
        // finds, recorded for this run. Without a run, verification asks again.
        if let Some(run) = run {
            let info = RepoFetchInfo {
                url: url.fetch_url.clone(),
                strategy: "all_refs".into(),
                depth: None,
                objects: received.objects,
                bytes: received.bytes,
                commit_objects: received.objects,
                ..RepoFetchInfo::default()
            };
            let refs: Vec<(String, ObjectId)> = received
                .refs
                .iter()
                .filter(|x| git::is_branch_or_tag(&x.name))
                .map(|x| (x.name.clone(), x.target))
                .collect();
            let answer = single::RunAnswer::Missing(refs);
            record_for_run(
                &cache, &repo_path, &url, &missing, &info, run, &answer, options, &mut done,
            )?;
        }
    }
    if let Some(oldest) = deep.iter().map(|(_, _, t)| *t).min() {
        done.requests += 1;
        match git::fetch_heads_since(&repo, &url, oldest, options, should_interrupt) {
            Ok(r) => {
                done.objects += r.objects;
                done.bytes += r.bytes;
                let max = options.limits.max_tree_entries;
                for (c, w, t) in deep {
                    let from = git::reaches(&repo, &heads, c, Some(t.saturating_sub(1)), max);
                    reach.push((c, w, from));
                }
            }
            Err(git::Failure::Error(Error::Interrupted)) => return Err(Error::Interrupted),
            // Those commits are left to verification (its own deepen, its own answer).
            Err(_) => done.skipped = Some("the deepen to establish reachability failed".into()),
        }
    }
    for (c, (declared, w), reachable_from) in reach {
        // Its own spelling, as its own fetch would record (same repository, same cache).
        let own = match single::target(declared, true, options) {
            Ok(Ok((u, _))) if u.key == url.key => u,
            _ => continue,
        };
        let mut info = RepoFetchInfo {
            url: own.fetch_url.clone(),
            strategy: "prefetch".into(),
            depth: Some(1),
            reachable_from,
            ..RepoFetchInfo::default()
        };
        let findings = single::after_fetch(
            &repo,
            &own,
            declared,
            Some(c),
            true,
            w,
            options,
            &mut info,
            should_interrupt,
        )?;
        let path = git::record_path(&repo_path, &single::record_key(Some(c), w));
        // A fetch by id writes no refs for its version.
        single::write_record(&cache, &path, &info, findings, (Some(c), true), &[])?;
        done.recorded += 1;
    }
    Ok(done)
}
