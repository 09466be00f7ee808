//! Fetching a repository into the cache: URL policy, the cache record (replayed on a hit so
//! reports do not depend on the cache), the HTTP preflight, then the network part
//! ([`transfer`](super::transfer)).

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use super::cache::{self, Cache};
use super::error::{Error, chain, describe_reqwest};
use super::git;
use super::local;
use super::mirror;
use super::net;
use super::options::Options;
use super::registry;
use super::thread::stoppable;
use super::transfer;
use super::url::{RepoUrl, Transport};
use super::want::{Fetched, Want};
use crate::ids::hex;
use crate::progress::{Progress, Stage};
use crate::report::{Finding, RepoFetchInfo, Severity, SubmoduleInfo};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    /// What the fetch that filled the cache received, replayed on cache hits so reports are
    /// byte-identical whether or not the cache was warm (shared/SECURITY.md §5 promise 13).
    #[serde(default)]
    fetched: Option<RepoFetchInfo>,
    reachable_from: Option<String>,
    findings: Vec<Finding>,
    submodules: Vec<SubmoduleInfo>,
    found: bool,
    /// The refs this fetch wrote for this version (`(local ref name, target hex)`): the version
    /// tags it looked up in the advertisement, or every branch and tag when it had to fetch
    /// them all. Verification consults only these, never the other refs of the shared cache.
    #[serde(default)]
    refs: Vec<(String, String)>,
    /// A record that holds for one batch run only (written by its prefetch: the server does not
    /// have the commit, or the repository does not exist — answers that may change later):
    /// replayed only by fetches of that run ([`Options::batch_run`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<String>,
    /// The repository could not be fetched (the message of [`Fetched::not_found`]); only in a
    /// run's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_found: Option<String>,
}

/// What a prefetch learned that holds for its batch run only, recorded per commit
/// ([`write_run_record`]).
#[derive(Debug, Clone)]
pub(super) enum RunAnswer {
    /// The repository does not exist (or is not git, or access was denied): the message.
    NotFound(String),
    /// The server does not have the commit: every branch and tag was fetched (`info`), these
    /// are the refs (`(name, target)`) that fetch wrote.
    Missing(Vec<(String, ObjectId)>),
}

/// Fetch what `want` needs from the repository at `raw_url` into the cache (or reuse the cache).
///
/// `from_crate`: the URL comes from the crate's `package.repository`, so a policy refusal is a
/// verdict (`Fetched::not_found`) rather than an error.
///
/// Long because it is the fetch's sequence (policy, local path, cache replay, offline, preflight,
/// transfer, reachability and submodules, record), in that order, each step short.
pub fn repository(
    raw_url: &str,
    from_crate: bool,
    want: &Want,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Fetched, Error> {
    let (url, fetched_from) = match target(raw_url, from_crate, options)? {
        Ok(t) => t,
        Err(refused) => return Ok(refused),
    };
    if let Some(p) = &url.local_path {
        let mut fetched = Fetched::local(p, &url);
        fetched.fetched_from = fetched_from;
        if !options.mirrors.is_empty() && options.submodules {
            local::with_submodules(raw_url, &mut fetched, want, options, should_interrupt)?;
        }
        return Ok(fetched);
    }
    let commit = want.commit_id()?;
    progress.stage(Stage::Fetch, None);
    let cache = options.cache()?;
    let (repo_path, lock_path) = cache.repo_paths(&url.key);
    let _lock = cache::Lock::exclusive(&lock_path)?;
    let repo = git::open_bare(&repo_path, &url, options)?;
    let record_path = git::record_path(&repo_path, &record_key(commit, want));
    if let Some(hit) = cached(&record_path, &repo, commit, options, &url) {
        return Ok(Fetched {
            path: repo_path,
            fetched_from,
            ..hit
        });
    }
    let mut info = RepoFetchInfo {
        url: url.fetch_url.clone(),
        ..RepoFetchInfo::default()
    };
    let mut findings = url.findings.clone();
    let mut obtained = Vec::new();
    if options.offline {
        return Err(Error::Offline {
            what: match commit {
                Some(c) => format!("commit `{c}` of `{}`", url.fetch_url),
                None => format!("the version tags of `{}`", url.fetch_url),
            },
        });
    }
    let refused = |e: Error| refused(e, from_crate, &url);
    if matches!(url.transport, Transport::Https | Transport::Http) {
        match preflight_stoppable(&url, options, should_interrupt)? {
            Ok(Some(message)) => {
                let refused = Fetched::refused(url.fetch_url.clone(), &message, findings);
                return Ok(Fetched {
                    path: repo_path,
                    info,
                    fetched_from,
                    ..refused
                });
            }
            Ok(None) => {}
            Err(e) => return refused(e),
        }
    }
    let outcome = transfer::fetch_into(
        &repo,
        &url,
        commit,
        want,
        options,
        &mut info,
        &mut obtained,
        should_interrupt,
    );
    let found = match outcome {
        Ok(found) => found,
        Err(git::Failure::NotFound(message)) => {
            let message = format!("cannot fetch `{}`: {message}", url.fetch_url);
            let refused = Fetched::refused(url.fetch_url.clone(), &message, findings);
            return Ok(Fetched {
                path: repo_path,
                info,
                fetched_from,
                ..refused
            });
        }
        Err(git::Failure::Refused(message)) => {
            return Err(Error::Network {
                host: url.host.clone(),
                what: format!("fetching `{}`", url.fetch_url),
                message,
                transient: false,
            });
        }
        Err(git::Failure::Error(e)) => return refused(e),
    };
    let rec_findings = after_fetch(
        &repo,
        &url,
        raw_url,
        commit,
        found,
        want,
        options,
        &mut info,
        should_interrupt,
    )?;
    progress.inc(info.bytes);
    findings.extend(rec_findings.iter().cloned());
    write_record(
        &cache,
        &record_path,
        &info,
        rec_findings,
        (commit, found),
        &obtained,
    )?;
    Ok(Fetched {
        path: repo_path,
        not_found: None,
        info,
        findings,
        fetched_from,
        refs: Some(obtained),
    })
}

/// Where `raw_url` is fetched from, and the mirror's URL when one applied; `Ok(Err(_))`: a
/// crate's URL refused by policy (a verdict).
/// A mirror's target is the user's configuration: refusing it is an error, never a verdict.
pub(super) fn target(
    raw_url: &str,
    from_crate: bool,
    options: &Options,
) -> Result<Result<(RepoUrl, Option<String>), Fetched>, Error> {
    match mirror::target(raw_url, &options.mirrors, options.allow_insecure_transport) {
        Ok(t) => {
            let from = t.mirrored.as_ref().map(|_| t.url.fetch_url.clone());
            Ok(Ok((t.url, from)))
        }
        Err(e @ Error::UrlPolicy { .. })
            if from_crate && mirror::rewrite(raw_url, &options.mirrors).is_none() =>
        {
            let url = crate::text::escape(raw_url.as_bytes());
            Ok(Err(Fetched::refused(url, &e, Vec::new())))
        }
        Err(e) => Err(e),
    }
}

/// A cache hit: what the record replays (`path` and `fetched_from` are the caller's).
fn cached(
    record_path: &Path,
    repo: &gix::Repository,
    commit: Option<ObjectId>,
    options: &Options,
    url: &RepoUrl,
) -> Option<Fetched> {
    let mut info = RepoFetchInfo {
        url: url.fetch_url.clone(),
        ..RepoFetchInfo::default()
    };
    let mut findings = url.findings.clone();
    let mut obtained = Vec::new();
    let mut not_found = None;
    replay(
        record_path,
        repo,
        (commit, options.batch_run.as_deref()),
        &mut info,
        &mut findings,
        &mut obtained,
        &mut not_found,
    )
    .then(|| Fetched {
        path: std::path::PathBuf::new(),
        not_found,
        info,
        findings,
        fetched_from: None,
        refs: Some(obtained),
    })
}

/// A URL refused by policy is a verdict when it comes from the crate, an error otherwise.
fn refused(e: Error, from_crate: bool, url: &RepoUrl) -> Result<Fetched, Error> {
    match e {
        Error::UrlPolicy { .. } if from_crate => Ok(Fetched::refused(
            url.fetch_url.clone(),
            &e,
            url.findings.clone(),
        )),
        e => Err(e),
    }
}

/// The name of the cache record: the commit, or a digest of the wanted tags.
pub(super) fn record_key(commit: Option<ObjectId>, want: &Want) -> String {
    match commit {
        Some(c) => c.to_string(),
        None => format!(
            "tags-{}",
            &hex(&<sha2::Sha256 as sha2::Digest>::digest(
                want.tags.join("\n").as_bytes()
            ))[..16]
        ),
    }
}

/// Cache hit: the record exists and (for a commit) the commit is present. Replays what the
/// fetch that filled the cache saw into `info`, `findings`, `refs` (the refs it wrote) and
/// `not_found`. `(commit, run)`: the wanted commit, and the batch run asking (a run's record is
/// only replayed by that run).
pub(super) fn replay(
    record_path: &Path,
    repo: &gix::Repository,
    (commit, run): (Option<ObjectId>, Option<&str>),
    info: &mut RepoFetchInfo,
    findings: &mut Vec<Finding>,
    refs: &mut Vec<(String, ObjectId)>,
    not_found: &mut Option<String>,
) -> bool {
    let Ok(Some(bytes)) = cache::read_limited(record_path, 1 << 20) else {
        return false;
    };
    let Ok(rec) = serde_json::from_slice::<Record>(&bytes) else {
        return false;
    };
    if rec.run.is_some() && rec.run.as_deref() != run {
        return false;
    }
    not_found.clone_from(&rec.not_found);
    // The record says the commit was fetched, but it is no longer in the repository: no hit.
    if rec.found && !commit.is_none_or(|c| git::has_commit(repo, c)) {
        return false;
    }
    if let Some(f) = rec.fetched {
        *info = f;
    } else {
        info.strategy = "cache".into();
    }
    info.from_cache = true;
    info.reachable_from = rec.reachable_from;
    info.submodules = rec.submodules;
    findings.extend(rec.findings);
    refs.extend(rec.refs.iter().filter_map(|(name, id)| {
        ObjectId::from_hex(id.as_bytes())
            .ok()
            .map(|id| (name.clone(), id))
    }));
    true
}

/// The preflight on its own thread, stopped when `should_interrupt` is set. The outer error is
/// the stop; the inner result is the preflight's.
pub(super) fn preflight_stoppable(
    url: &RepoUrl,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<Result<Option<String>, Error>, Error> {
    let (u, o) = (url.clone(), options.clone());
    // No grace: the preflight holds nothing that needs winding down.
    let interrupted = || {
        should_interrupt
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| "interrupted".to_owned())
    };
    let (outcome, why) = stoppable(
        "provenance-preflight",
        move |_| preflight(&u, &o),
        Duration::ZERO,
        interrupted,
    );
    outcome.ok_or_else(|| match why.as_deref() {
        Some("interrupted") => Error::Interrupted,
        why => Error::Network {
            host: url.host.clone(),
            what: format!("fetching `{}`", url.fetch_url),
            message: why.unwrap_or("the preflight stopped").to_owned(),
            transient: true,
        },
    })
}

/// After the commit was fetched: whether it is on an advertised ref, and its submodules'
/// commits. Returns the findings to keep in the cache record.
#[allow(clippy::too_many_arguments)]
pub(super) fn after_fetch(
    repo: &gix::Repository,
    url: &RepoUrl,
    declared: &str,
    commit: Option<ObjectId>,
    found: bool,
    want: &Want,
    options: &Options,
    info: &mut RepoFetchInfo,
    should_interrupt: &AtomicBool,
) -> Result<Vec<Finding>, Error> {
    let mut rec_findings = Vec::new();
    if let Some(c) = commit
        && found
    {
        if info.reachable_from.is_none() {
            rec_findings.push(Finding::new(
                "commit_not_on_any_ref",
                Severity::Medium,
                format!(
                    "commit `{c}` is not reachable from any branch or tag advertised by `{}`",
                    url.fetch_url
                ),
            ));
        }
        if options.submodules {
            transfer::submodules(
                repo,
                declared,
                c,
                want,
                options,
                info,
                &mut rec_findings,
                should_interrupt,
            )?;
        }
    }
    Ok(rec_findings)
}

/// Keep what this fetch saw for the next run (only when there is something to replay):
/// `(commit, found)` as fetched, `refs` the refs it wrote for this version.
pub(super) fn write_record(
    cache: &Cache,
    record_path: &Path,
    info: &RepoFetchInfo,
    findings: Vec<Finding>,
    (commit, found): (Option<ObjectId>, bool),
    refs: &[(String, ObjectId)],
) -> Result<(), Error> {
    let record = Record {
        fetched: Some(info.clone()),
        reachable_from: info.reachable_from.clone(),
        findings,
        submodules: info.submodules.clone(),
        found,
        refs: refs
            .iter()
            .map(|(name, id)| (name.clone(), id.to_string()))
            .collect(),
        run: None,
        not_found: None,
    };
    if found || commit.is_none() {
        let bytes = serde_json::to_vec_pretty(&record).expect("record serializes");
        cache.write_atomic(record_path, &bytes)?;
    }
    Ok(())
}

/// Keep, for batch run `run` only, what a per-version fetch of `commit` would have found:
/// `info` (the fetch figures and URL) and `answer`. Each verification of that run replays it
/// instead of asking the server again; later runs ask again (the answer may change).
pub(super) fn write_run_record(
    cache: &Cache,
    record_path: &Path,
    info: &RepoFetchInfo,
    run: &str,
    answer: RunAnswer,
) -> Result<(), Error> {
    let (not_found, refs) = match answer {
        RunAnswer::NotFound(m) => (Some(m), Vec::new()),
        RunAnswer::Missing(refs) => (None, refs),
    };
    let record = Record {
        fetched: Some(info.clone()),
        reachable_from: None,
        findings: Vec::new(),
        submodules: Vec::new(),
        found: false,
        refs: refs
            .iter()
            .map(|(name, id)| (name.clone(), id.to_string()))
            .collect(),
        run: Some(run.to_owned()),
        not_found,
    };
    let bytes = serde_json::to_vec_pretty(&record).expect("record serializes");
    cache.write_atomic(record_path, &bytes)
}

/// For HTTP(S): ask for the ref advertisement ourselves first, so that 404/401/403 become
/// `repository_not_found`, and a redirect to another host or scheme is refused with a clear
/// message, before gix (which is configured not to follow redirects) connects.
fn preflight(url: &RepoUrl, options: &Options) -> Result<Option<String>, Error> {
    let refusal: net::Refusal = std::sync::Arc::default();
    let resolver = net::PolicyResolver::new(
        options.allow_insecure_transport || url.allow_private,
        refusal.clone(),
    );
    let client = registry::http_client_with(options, Some(std::sync::Arc::new(resolver)))?;
    let refused = || {
        refusal
            .lock()
            .expect("not poisoned")
            .take()
            .map(|reason| Error::UrlPolicy {
                url: url.fetch_url.clone(),
                reason,
            })
    };
    let target = format!("{}/info/refs?service=git-upload-pack", url.fetch_url);
    match client
        .get(&target)
        .header("Git-Protocol", "version=2")
        .send()
    {
        Ok(resp) => {
            let status = resp.status();
            if status.is_success() {
                if resp.url().as_str() != target {
                    return Ok(Some(format!(
                        "`{}` redirects to `{}`; use the new URL with `--repo`",
                        url.fetch_url,
                        resp.url()
                    )));
                }
                return Ok(None);
            }
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Err(Error::Network {
                    host: url.host.clone(),
                    what: format!("fetching `{}`", url.fetch_url),
                    message: format!("HTTP status {status}"),
                    transient: true,
                });
            }
            if status.is_redirection() {
                let loc = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .map(|v| crate::text::escape(v.as_bytes()))
                    .unwrap_or_default();
                return Ok(Some(format!(
                    "`{}` answered with a redirect to `{loc}` (HTTP status {status}), which is not followed",
                    url.fetch_url
                )));
            }
            Ok(Some(format!(
                "`{}` is not a git repository or access was denied (HTTP status {status})",
                url.fetch_url
            )))
        }
        Err(e) if e.is_redirect() => Ok(Some(format!(
            "cannot fetch `{}`: {}",
            url.fetch_url,
            chain(&e)
        ))),
        Err(e) => Err(refused().unwrap_or_else(|| Error::Network {
            host: url.host.clone(),
            what: format!("fetching `{}`", url.fetch_url),
            message: describe_reqwest(&e, &url.host),
            transient: true,
        })),
    }
}
