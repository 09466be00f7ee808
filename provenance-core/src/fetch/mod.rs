//! The fetch stage: the registry's sparse index and `.crate` download ([`crate_archive`]), and
//! one-revision fetches of the upstream repository with gix ([`repository`]), both kept in a
//! cache directory safe for concurrent processes ([`cache`]).
//!
//! Policy (shared/SECURITY.md §3, §4.4, §5): only `https` unless
//! [`Options::allow_insecure_transport`]; no `ssh`, no `ext::`, no `git` or `ssh` processes
//! (local `file://` repositories are opened in place, never through `git-upload-pack`); no
//! credentials are sent and nothing prompts; redirects to another host are refused; downloads are
//! bounded ([`Limits::max_crate_bytes`](crate::Limits)) and verified against the index `cksum`
//! before anything parses them; fetches are bounded in refs, bytes and wall-clock time.
//!
//! Repository hosts are resolved once by our resolver, which refuses names resolving to
//! loopback, private, link-local or unspecified addresses (SSRF; literal addresses are refused
//! when the URL is parsed), and connections go to exactly the checked addresses. Every byte a git
//! server sends passes a counter: the ref advertisement may take `256 × max_refs` bytes
//! (`max_ref_advertisement_bytes`), the pack [`Options::max_fetch_bytes`], and a pack whose
//! header declares more than [`Options::max_pack_objects`] objects is refused before gix reads
//! it. gix's `allocLimit` ([`Limits::git_alloc_limit`](crate::Limits)) refuses single objects
//! larger than it while indexing. Deviation from git: none of these limits exist in git.

pub mod cache;
pub(crate) mod git;
pub(crate) mod net;
pub mod registry;
pub mod url;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use gix::ObjectId;
use gix::remote::fetch::Shallow;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, LimitError};
use crate::limits::Limits;
use crate::progress::{Progress, Stage};
use crate::report::{Finding, Severity};

pub use crate::report::{DownloadInfo, FetchInfo, RepoFetchInfo, SubmoduleInfo};
pub use cache::Cache;
pub use registry::{Downloaded, Registry};
pub use url::{RepoUrl, Transport};

/// Errors of the fetch stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry has no such crate, or no such version of it.
    #[error("crate `{name}{}` not found in the registry at `{registry}`", version.as_ref().map(|v| format!("@{v}")).unwrap_or_default())]
    CrateNotFound {
        /// The crate name.
        name: String,
        /// The version, when the crate exists but the version does not.
        version: Option<String>,
        /// The registry host (or index directory).
        registry: String,
    },
    /// The downloaded `.crate` does not hash to the index `cksum`; nothing was cached.
    #[error(
        "checksum mismatch for `{name}@{version}`: the registry index records sha256 `{expected}`, the download has `{actual}`"
    )]
    ChecksumMismatch {
        /// The crate name.
        name: String,
        /// The version.
        version: String,
        /// The index `cksum`.
        expected: String,
        /// The sha256 of the downloaded bytes.
        actual: String,
    },
    /// A network transfer failed.
    #[error("{what} from `{host}` failed: {message}")]
    Network {
        /// The host that was contacted.
        host: String,
        /// What was being done.
        what: String,
        /// What went wrong (DNS, connection, TLS, HTTP status, timeout, truncation).
        message: String,
        /// Whether retrying may help (used for bounded retries).
        transient: bool,
    },
    /// A URL or transport was refused by policy.
    #[error("`{url}` refused: {reason}")]
    UrlPolicy {
        /// The URL (escaped).
        url: String,
        /// Why.
        reason: String,
    },
    /// A limit was exceeded.
    #[error("{0}")]
    LimitExceeded(LimitError),
    /// The cache directory is unusable.
    #[error("cache `{path}`: {message}")]
    Cache {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// `offline` was requested but what is needed is not cached.
    #[error("offline: {what} is not in the cache")]
    Offline {
        /// What was needed.
        what: String,
    },
    /// The registry index served something unusable.
    #[error("invalid registry index: {message}")]
    InvalidIndex {
        /// What is wrong.
        message: String,
    },
    /// The request itself is invalid.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// The local repository machinery failed.
    #[error("git repository for `{url}`: {message}")]
    Git {
        /// The repository URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// `should_interrupt` was set.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::CrateNotFound { .. } => ErrorKind::CrateNotFound,
            Error::ChecksumMismatch { .. } => ErrorKind::ChecksumMismatch,
            Error::Network { .. } | Error::InvalidIndex { .. } => ErrorKind::Network,
            Error::UrlPolicy { .. } => ErrorKind::UrlPolicy,
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
            Error::Cache { .. } => ErrorKind::Io,
            Error::Offline { .. } => ErrorKind::Unsupported,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Git { .. } => ErrorKind::Git,
            Error::Interrupted => ErrorKind::Interrupted,
        }
    }
}

/// Options of the fetch stage.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The cache directory. Default: [`cache::default_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Use only what is cached. Default `false`.
    pub offline: bool,
    /// The sparse index URL. Default: crates.io.
    pub index_url: Option<String>,
    /// Allow `http://`, `git://`, `file://` and private/loopback hosts. Default `false`.
    pub allow_insecure_transport: bool,
    /// Resource limits (`max_crate_bytes`, `git_alloc_limit`).
    pub limits: Limits,
    /// Per-request HTTP timeout (also the low-speed window for git over HTTP). Default 30 s.
    pub http_timeout: Duration,
    /// How long a cached index file is used without asking the registry again (yanked status
    /// may be that old). Default 10 minutes.
    pub index_ttl: Duration,
    /// Retries of transient registry failures (5xx, 429, timeouts, resets). Default 2.
    pub retries: u32,
    /// Wall-clock limit of one git fetch. Default 300 s.
    pub fetch_timeout: Duration,
    /// Maximum pack bytes received by one git fetch. Default 2 GiB.
    pub max_fetch_bytes: u64,
    /// Maximum refs a git server may advertise. Default 100,000. The advertisement itself may
    /// take at most 256 bytes per permitted ref (`max_ref_advertisement_bytes`), so an endless
    /// advertisement stops long before it costs memory.
    pub max_refs: u64,
    /// Maximum objects a received pack may declare in its header. Default 3,000,000 (gix keeps
    /// about 65 bytes per object while indexing, so this bounds that to about 200 MiB; a
    /// depth-1 fetch of the largest crates' repositories is far below it). Checked before gix
    /// reads the header.
    pub max_pack_objects: u64,
    /// Fetch the gitlink commits of submodules named in `.gitmodules`. Default `true`.
    pub submodules: bool,
    /// The User-Agent sent to registries and git servers.
    pub user_agent: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_dir: None,
            offline: false,
            index_url: None,
            allow_insecure_transport: false,
            limits: Limits::default(),
            http_timeout: Duration::from_secs(30),
            index_ttl: Duration::from_secs(600),
            retries: 2,
            fetch_timeout: Duration::from_secs(300),
            max_fetch_bytes: 2 << 30,
            max_refs: 100_000,
            max_pack_objects: 3_000_000,
            submodules: true,
            user_agent: format!(
                "crate-provenance/{} (+https://example.invalid/crate-provenance)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

impl Options {
    /// Open the configured (or default) cache.
    pub fn cache(&self) -> Result<Cache, Error> {
        let dir = self
            .cache_dir
            .clone()
            .or_else(cache::default_dir)
            .ok_or_else(|| Error::Cache {
                path: String::new(),
                message: "no cache directory: set `--cache-dir`, `XDG_CACHE_HOME` or `HOME`".into(),
            })?;
        Cache::open(&dir)
    }
}

/// What [`repository`] produced.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The repository to open (the cache's bare repository, or the local path).
    pub path: PathBuf,
    /// `None` when the repository is usable; `Some(message)` when it could not be fetched
    /// (does not exist, not git, access denied, refused by policy): verdict `repository_not_found`.
    pub not_found: Option<String>,
    /// What was fetched.
    pub info: RepoFetchInfo,
    /// Findings (`commit_not_on_any_ref`, `repository_url_normalized`, `submodule_unavailable`, …).
    pub findings: Vec<Finding>,
}

/// What to fetch from a repository.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Want {
    /// The commit (40 hex), when known.
    pub commit: Option<String>,
    /// Tag names (`refs/tags/…`) to fetch with depth 1 when the commit is unknown or missing.
    pub tags: Vec<String>,
    /// The package directory; only submodules under it are fetched (`None` = all).
    pub path_in_vcs: Option<String>,
}

impl Want {
    /// Want `commit`.
    pub fn commit(commit: impl Into<String>) -> Want {
        Want {
            commit: Some(commit.into()),
            ..Want::default()
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    crate::ids::hex(bytes)
}

/// Render an error and its sources on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Describe a reqwest failure, saying plainly when it is DNS, a refused connection, TLS or a timeout.
pub(crate) fn describe_reqwest(e: &reqwest::Error, host: &str) -> String {
    let full = chain(e);
    let lower = full.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        format!("dns lookup of `{host}` failed ({full})")
    } else if e.is_timeout() {
        format!("timed out ({full})")
    } else if lower.contains("connection refused") {
        format!("connection to `{host}` refused ({full})")
    } else if lower.contains("certificate") || lower.contains("tls") {
        format!("tls handshake with `{host}` failed ({full})")
    } else {
        full
    }
}

/// Download `name@version` from the registry (or take it from the cache), verified against the
/// index `cksum` before it is returned.
pub fn crate_archive(
    name: &str,
    version: &str,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Downloaded, Error> {
    let cache = options.cache()?;
    let registry = Registry::new(options.index_url.as_deref(), options)?;
    registry.download(&cache, name, version, progress, should_interrupt)
}

/// The finding for a yanked version.
pub fn yanked_finding(name: &str, version: &str) -> Finding {
    Finding::new(
        "yanked",
        Severity::Medium,
        format!("`{name}@{version}` is yanked in the registry"),
    )
}

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
}

/// Fetch what `want` needs from the repository at `raw_url` into the cache (or reuse the cache).
///
/// `from_crate`: the URL comes from the crate's `package.repository`, so a policy refusal is a
/// verdict (`Fetched::not_found`) rather than an error.
pub fn repository(
    raw_url: &str,
    from_crate: bool,
    want: &Want,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Fetched, Error> {
    let url = match url::normalize(raw_url, options.allow_insecure_transport) {
        Ok(u) => u,
        Err(e @ Error::UrlPolicy { .. }) if from_crate => {
            return Ok(Fetched {
                path: PathBuf::new(),
                not_found: Some(e.to_string()),
                info: RepoFetchInfo {
                    url: crate::text::escape(raw_url.as_bytes()),
                    strategy: "refused".into(),
                    ..RepoFetchInfo::default()
                },
                findings: Vec::new(),
            });
        }
        Err(e) => return Err(e),
    };
    if let Some(p) = &url.local_path {
        return Ok(Fetched {
            path: p.clone(),
            not_found: None,
            info: RepoFetchInfo {
                url: url.fetch_url.clone(),
                from_cache: true,
                strategy: "local".into(),
                ..RepoFetchInfo::default()
            },
            findings: url.findings.clone(),
        });
    }
    let commit = match &want.commit {
        Some(c) => Some(
            ObjectId::from_hex(c.as_bytes()).map_err(|_| Error::InvalidInput {
                message: format!(
                    "`{}` is not a full commit id",
                    crate::text::escape(c.as_bytes())
                ),
            })?,
        ),
        None => None,
    };
    progress.stage(Stage::Fetch, None);
    let cache = options.cache()?;
    let (repo_path, lock_path) = cache.repo_paths(&url.key);
    let _lock = cache::Lock::exclusive(&lock_path)?;
    let repo = git::open_bare(&repo_path, &url, options)?;
    let record_key = match commit {
        Some(c) => c.to_string(),
        None => format!(
            "tags-{}",
            &hex(&<sha2::Sha256 as sha2::Digest>::digest(
                want.tags.join("\n").as_bytes()
            ))[..16]
        ),
    };
    let record_path = git::record_path(&repo_path, &record_key);
    let mut info = RepoFetchInfo {
        url: url.fetch_url.clone(),
        ..RepoFetchInfo::default()
    };
    let mut findings = url.findings.clone();
    // Cache hit: the record exists and (for a commit) the commit is present.
    if let Ok(Some(bytes)) = cache::read_limited(&record_path, 1 << 20)
        && let Ok(rec) = serde_json::from_slice::<Record>(&bytes)
        && (!rec.found || commit.is_none_or(|c| git::has_commit(&repo, c)))
    {
        if let Some(f) = rec.fetched {
            info = f;
        } else {
            info.strategy = "cache".into();
        }
        info.from_cache = true;
        info.reachable_from = rec.reachable_from;
        info.submodules = rec.submodules;
        findings.extend(rec.findings);
        return Ok(Fetched {
            path: repo_path,
            not_found: None,
            info,
            findings,
        });
    }
    if options.offline {
        return Err(Error::Offline {
            what: match commit {
                Some(c) => format!("commit `{c}` of `{}`", url.fetch_url),
                None => format!("the version tags of `{}`", url.fetch_url),
            },
        });
    }
    let refused = |e: Error| -> Result<Fetched, Error> {
        match e {
            Error::UrlPolicy { .. } if from_crate => Ok(Fetched {
                path: PathBuf::new(),
                not_found: Some(e.to_string()),
                info: RepoFetchInfo {
                    url: url.fetch_url.clone(),
                    strategy: "refused".into(),
                    ..RepoFetchInfo::default()
                },
                findings: url.findings.clone(),
            }),
            e => Err(e),
        }
    };
    if matches!(url.transport, Transport::Https | Transport::Http) {
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
        let Some(outcome) = outcome else {
            return Err(match why.as_deref() {
                Some("interrupted") => Error::Interrupted,
                why => Error::Network {
                    host: url.host.clone(),
                    what: format!("fetching `{}`", url.fetch_url),
                    message: why.unwrap_or("the preflight stopped").to_owned(),
                    transient: true,
                },
            });
        };
        match outcome {
            Ok(Some(message)) => {
                return Ok(Fetched {
                    path: repo_path,
                    not_found: Some(message),
                    info,
                    findings,
                });
            }
            Ok(None) => {}
            Err(e) => return refused(e),
        }
    }
    let outcome = fetch_into(
        &repo,
        &url,
        commit,
        want,
        options,
        &mut info,
        should_interrupt,
    );
    let found = match outcome {
        Ok(found) => found,
        Err(git::Failure::NotFound(message)) => {
            let message = format!("cannot fetch `{}`: {message}", url.fetch_url);
            return Ok(Fetched {
                path: repo_path,
                not_found: Some(message),
                info,
                findings,
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
            submodules(
                &repo,
                &url,
                c,
                want,
                options,
                &mut info,
                &mut rec_findings,
                should_interrupt,
            )?;
        }
    }
    progress.inc(info.bytes);
    findings.extend(rec_findings.iter().cloned());
    let record = Record {
        fetched: Some(info.clone()),
        reachable_from: info.reachable_from.clone(),
        findings: rec_findings,
        submodules: info.submodules.clone(),
        found,
    };
    if found || commit.is_none() {
        let bytes = serde_json::to_vec_pretty(&record).expect("record serializes");
        cache.write_atomic(&record_path, &bytes)?;
    }
    Ok(Fetched {
        path: repo_path,
        not_found: None,
        info,
        findings,
    })
}

/// For HTTP(S): ask for the ref advertisement ourselves first, so that 404/401/403 become
/// `repository_not_found`, and a redirect to another host or scheme is refused with a clear
/// message, before gix (which is configured not to follow redirects) connects.
fn preflight(url: &RepoUrl, options: &Options) -> Result<Option<String>, Error> {
    let refusal: net::Refusal = std::sync::Arc::default();
    let resolver = net::PolicyResolver::new(options.allow_insecure_transport, refusal.clone());
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

/// Run `f` on its own thread with a stop flag. Every 50 ms while waiting, `check` may return a
/// reason to stop: the flag is set, and `f` gets `grace` to finish before it is left behind to
/// end on its own (its I/O is bounded by timeouts). Returns `f`'s result (`None`: left behind or
/// the thread could not run) and the reason it was stopped.
pub(crate) fn stoppable<T: Send + 'static>(
    name: &str,
    f: impl FnOnce(&AtomicBool) -> T + Send + 'static,
    grace: Duration,
    mut check: impl FnMut() -> Option<String>,
) -> (Option<T>, Option<String>) {
    use std::sync::mpsc::RecvTimeoutError;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let worker_stop = stop.clone();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(f(&worker_stop));
        });
    if let Err(e) = spawned {
        return (None, Some(format!("cannot start the `{name}` thread: {e}")));
    }
    let mut reason: Option<String> = None;
    let mut stopped_at: Option<std::time::Instant> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(out) => return (Some(out), reason),
            Err(RecvTimeoutError::Disconnected) => {
                return (
                    None,
                    reason.or_else(|| Some(format!("the `{name}` thread died"))),
                );
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(at) = stopped_at {
            if at.elapsed() > grace {
                return (None, reason);
            }
            continue;
        }
        if let Some(why) = check() {
            reason = Some(why);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if grace.is_zero() {
                return (None, reason);
            }
            stopped_at = Some(std::time::Instant::now());
        }
    }
}

fn add(info: &mut RepoFetchInfo, r: &git::Received) {
    info.objects += r.objects;
    info.bytes += r.bytes;
}

/// The network part of [`repository`]. Returns whether the commit (or, without one, anything)
/// is now available.
fn fetch_into(
    repo: &gix::Repository,
    url: &RepoUrl,
    commit: Option<ObjectId>,
    want: &Want,
    options: &Options,
    info: &mut RepoFetchInfo,
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
        depth1.clone(),
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
            // The server refused the id: fetch every branch and tag (full history).
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
            if !git::has_commit(repo, commit) {
                return Ok(false);
            }
            let tips: Vec<(String, ObjectId)> = r
                .refs
                .iter()
                .filter(|x| git::is_branch_or_tag(&x.name))
                .map(|x| (x.name.clone(), x.tip()))
                .collect();
            info.reachable_from =
                git::reaches(repo, &tips, commit, None, options.limits.max_tree_entries);
            return Ok(true);
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
    // Not a tip: fetch the branches back to the commit's time and walk them.
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
    let cutoff = gix::date::Time::new(time.saturating_sub(1), 0);
    match git::fetch(
        repo,
        url,
        &["+refs/heads/*:refs/provenance/heads/*".into()],
        Shallow::Since { cutoff },
        false,
        options,
        should_interrupt,
    ) {
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
/// `refs/tags/…` at them.
fn fetch_tags(
    repo: &gix::Repository,
    url: &RepoUrl,
    refs: &[git::RemoteRef],
    wanted: &[String],
    options: &Options,
    info: &mut RepoFetchInfo,
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
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn submodules(
    repo: &gix::Repository,
    parent: &RepoUrl,
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
    let depth1 = Shallow::DepthAtRemote(1.try_into().expect("non-zero"));
    for (path, raw) in subs.into_iter().take(256) {
        if let Some(pkg) = want.path_in_vcs.as_deref()
            && !pkg.is_empty()
            && !(path == pkg
                || path.starts_with(&format!("{pkg}/"))
                || pkg.starts_with(&format!("{path}/")))
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
        let resolved = url::resolve_relative(&parent.fetch_url, &raw);
        let mut record = SubmoduleInfo {
            path: crate::text::escape(path.as_bytes()),
            url: crate::text::escape(resolved.as_bytes()),
            commit: sub_commit.to_string(),
            available: git::has_commit(repo, sub_commit),
        };
        if !record.available {
            let outcome = match url::normalize(&resolved, options.allow_insecure_transport) {
                Err(e) => Err(e.to_string()),
                Ok(u) if u.local_path.is_some() => {
                    Err("local submodule URLs are not fetched".to_owned())
                }
                Ok(u) => match git::fetch(
                    repo,
                    &u,
                    &[sub_commit.to_string()],
                    depth1.clone(),
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
