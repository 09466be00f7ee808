//! One fetch for many commits of one repository (a scan's versions of it): every wanted
//! commit in one negotiation, by id, depth 1; then, only for commits that are not the tip of
//! an advertised branch or tag, one `deepen-since` of the branches back to the oldest of them
//! to establish reachability. For every commit that arrived, the cache record a per-version
//! [`repository`](super::repository()) fetch would have written is written (reachability,
//! `commit_not_on_any_ref`, submodules, which stay per commit), so each verification then
//! replays it and fetches nothing.
//!
//! A prefetch never decides anything: when it cannot run (offline, a refused or local URL, a
//! preflight answer, a server that refuses commits by id, a limit, a network error) it writes
//! no record and says why in [`Prefetched::skipped`]; each verification then fetches on its
//! own exactly as without a prefetch, with its own error and verdict mapping. Deviation from a
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
    /// Commits whose record this prefetch wrote.
    pub recorded: usize,
    /// Fetch negotiations (upload-pack requests) made: 0, 1, or 2 with a deepen.
    pub requests: u32,
    /// Objects received.
    pub objects: u64,
    /// Pack bytes received (submodule fetches excluded: they stay per commit).
    pub bytes: u64,
    /// Why nothing (or not everything) was prefetched; verification then fetches on its own.
    pub skipped: Option<String>,
}

/// Most refusals one prefetch works around (each costs one more negotiation).
const MAX_REFUSED: usize = 8;

/// The wanted commits by id, depth 1, in one negotiation. A server that does not have one of
/// them refuses the whole request (`not our ref <id>`): that commit is left to verification
/// (which then asks for every branch and tag, as for a single version) and the others are asked
/// again, at most [`MAX_REFUSED`] times. `Ok(Err(why))`: nothing prefetched.
fn wanted_by_id(
    repo: &gix::Repository,
    url: &super::url::RepoUrl,
    todo: &mut Vec<(ObjectId, &(String, Want))>,
    options: &Options,
    done: &mut Prefetched,
    should_interrupt: &AtomicBool,
) -> Result<Result<git::Received, String>, Error> {
    let depth1 = Shallow::DepthAtRemote(1.try_into().expect("non-zero"));
    for _ in 0..=MAX_REFUSED {
        if todo.is_empty() {
            break;
        }
        let ids: Vec<String> = todo.iter().map(|(c, _)| c.to_string()).collect();
        done.requests += 1;
        match git::fetch(
            repo,
            url,
            &ids,
            depth1.clone(),
            false,
            options,
            should_interrupt,
        ) {
            Ok(r) => return Ok(Ok(r)),
            Err(git::Failure::Error(Error::Interrupted)) => return Err(Error::Interrupted),
            Err(git::Failure::Error(e)) => return Ok(Err(e.to_string())),
            Err(git::Failure::NotFound(m)) => return Ok(Err(m)),
            Err(git::Failure::Refused(m)) => {
                let before = todo.len();
                todo.retain(|(c, _)| !m.contains(&c.to_string()));
                if todo.len() == before {
                    return Ok(Err(m));
                }
            }
        }
    }
    Ok(Err(format!(
        "more than {MAX_REFUSED} wanted commits were refused"
    )))
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
            Some(*c),
            &mut info,
            &mut Vec::new(),
            &mut Vec::new(),
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
    let received = match wanted_by_id(&repo, &url, &mut todo, options, &mut done, should_interrupt)?
    {
        Ok(r) => r,
        Err(why) => return skip(done, why),
    };
    done.objects += received.objects;
    done.bytes += received.bytes;
    // Reachability, as `transfer::fetch_into` establishes it for one commit.
    let mut reach: Vec<(ObjectId, &(String, Want), Option<String>)> = Vec::new();
    let mut deep: Vec<(ObjectId, &(String, Want), i64)> = Vec::new();
    for (c, w) in todo {
        if !git::has_commit(&repo, c) {
            continue; // Not sent: verification asks again and maps the answer itself.
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
    if let Some(oldest) = deep.iter().map(|(_, _, t)| *t).min() {
        let cutoff = gix::date::Time::new(oldest.saturating_sub(1), 0);
        done.requests += 1;
        match git::fetch(
            &repo,
            &url,
            &["+refs/heads/*:refs/provenance/heads/*".into()],
            Shallow::Since { cutoff },
            false,
            options,
            should_interrupt,
        ) {
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
