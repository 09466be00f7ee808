//! One-revision fetches with gix into a bare repository per normalized URL (never checked out,
//! no `git` process, no credentials, no prompts).
//!
//! The commit is asked for by id with depth 1 (protocol v2 `want <sha>`); when the server
//! refuses, every branch and tag is fetched instead. Reachability from an advertised branch or
//! tag is then established from the advertisement (tips), else by fetching the branches back to
//! the commit's time (`deepen-since`) and walking them.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gix::ObjectId;
use gix::remote::Direction;
use gix::remote::fetch::Shallow;

use super::error::{Error, describe_reqwest};
use super::net;
use super::options::Options;
use super::url::{RepoUrl, Transport};

/// Why connecting or fetching failed: a gix error (and whether it happened during the
/// handshake), or our own connection set-up.
enum Connect {
    Gix(gix::Error, bool),
    Ours(String),
    Setup(String),
}

/// One advertised ref: full name, direct target, peeled target (annotated tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteRef {
    pub name: String,
    pub target: ObjectId,
    pub peeled: Option<ObjectId>,
}

impl RemoteRef {
    /// The commit (or other object) the ref finally points to.
    pub fn tip(&self) -> ObjectId {
        self.peeled.unwrap_or(self.target)
    }
}

/// What one fetch received.
#[derive(Debug, Clone, Default)]
pub(crate) struct Received {
    pub refs: Vec<RemoteRef>,
    pub objects: u64,
    pub bytes: u64,
    /// `(remote ref name or object id, object id)` of every mapping that was fetched.
    pub tips: Vec<(String, ObjectId)>,
}

/// Why a fetch failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The repository does not exist, is not git, or access was denied (a verdict).
    NotFound(String),
    /// The server answered but refused what we asked for (e.g. `not our ref`).
    Refused(String),
    /// A typed error (network, limit, interrupted).
    Error(Error),
}

/// A bare repository in the cache, opened with isolated options and our network policy.
pub(crate) fn open_bare(
    path: &Path,
    url: &RepoUrl,
    options: &Options,
) -> Result<gix::Repository, Error> {
    let git_err = |m: String| Error::Git {
        url: url.fetch_url.clone(),
        message: m,
    };
    if !path.join("HEAD").is_file() {
        let tmp = super::cache::Cache::temp_path(path);
        gix::create::into(
            &tmp,
            gix::create::Kind::Bare,
            gix::create::Options::default(),
        )
        .map_err(|e| {
            git_err(format!(
                "cannot create a bare repository in `{}`: {e}",
                tmp.display()
            ))
        })?;
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_dir_all(&tmp);
            if !path.join("HEAD").is_file() {
                return Err(Error::Cache {
                    path: path.display().to_string(),
                    message: format!("cannot move the new repository into place: {e}"),
                });
            }
        }
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Cache {
            path: path.display().to_string(),
            message: "the cached repository is a symlink".into(),
        });
    }
    let allow = match url.transport {
        Transport::Https => "protocol.https.allow=always",
        Transport::Http => "protocol.http.allow=always",
        Transport::Git => "protocol.git.allow=always",
        Transport::Local => "protocol.file.allow=never",
    };
    let low_speed_time = options.http_timeout.as_secs().max(1);
    let overrides = vec![
        format!(
            "gitoxide.objects.allocLimit={}",
            options.limits.git_alloc_limit
        ),
        "protocol.allow=never".to_owned(),
        allow.to_owned(),
        "protocol.version=2".to_owned(),
        "http.followRedirects=false".to_owned(),
        "http.lowSpeedLimit=10".to_owned(),
        format!("http.lowSpeedTime={low_speed_time}"),
        format!(
            "gitoxide.http.connectTimeout={}",
            options
                .http_timeout
                .min(Duration::from_secs(20))
                .as_millis()
        ),
        format!("gitoxide.userAgent={}", options.user_agent),
        "credential.helper=".to_owned(),
        "core.askPass=".to_owned(),
        "http.proxy=".to_owned(),
        "fetch.negotiationAlgorithm=noop".to_owned(),
    ];
    let opts = gix::open::Options::isolated()
        .config_overrides(overrides)
        .strict_config(false);
    gix::open_opts(path, opts).map_err(|e| {
        git_err(format!(
            "cannot open the cached repository `{}`: {e}",
            path.display()
        ))
    })
}

/// Render a gix error chain as one lowercase-ish line.
fn render(err: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in err.iter_errors() {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    let joined = parts.join(": ");
    let mut c = joined.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => joined,
    }
}

/// Classify a gix failure. `during_handshake`: the failure happened before a pack was requested.
fn classify(
    err: &gix::Error,
    url: &RepoUrl,
    during_handshake: bool,
    stopped: Option<&str>,
    alloc_limit: u64,
) -> Failure {
    let msg = render(err);
    if let Some(why) = stopped {
        if why == "interrupted" {
            return Failure::Error(Error::Interrupted);
        }
        return Failure::Error(Error::Network {
            host: url.host.clone(),
            what: format!("fetching `{}`", url.fetch_url),
            message: why.to_owned(),
            transient: true,
        });
    }
    let lower = msg.to_ascii_lowercase();
    let mut network: Option<String> = None;
    for e in err.iter_errors() {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(io.kind(), K::WouldBlock | K::TimedOut) {
                // A socket read or write timeout (our `git://` connections).
                network = Some(format!(
                    "timed out: `{}` sent nothing within the read timeout",
                    url.host
                ));
            } else if matches!(
                io.kind(),
                K::ConnectionRefused
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::TimedOut
                    | K::NotConnected
                    | K::AddrNotAvailable
                    | K::BrokenPipe
                    | K::HostUnreachable
                    | K::NetworkUnreachable
            ) {
                network = Some(io.to_string());
            }
        }
        if let Some(r) = e.downcast_ref::<reqwest::Error>()
            && (r.is_connect() || r.is_timeout())
        {
            network = Some(describe_reqwest(r, &url.host));
        }
    }
    let dns = [
        "failed to lookup address",
        "dns error",
        "name or service not known",
        "no address associated",
        "temporary failure in name resolution",
    ];
    if dns.iter().any(|d| lower.contains(d)) {
        return Failure::Error(Error::Network {
            host: url.host.clone(),
            what: format!("fetching `{}`", url.fetch_url),
            message: format!("dns lookup of `{}` failed: {msg}", url.host),
            transient: true,
        });
    }
    let not_found = [
        "http status 404",
        "http status 410",
        "http status 403",
        "http status 401",
        "authentication",
        "access denied",
        "not exported",
        "not a git repository",
        "does not appear to be a git repository",
        "repository not found",
        "no such repository",
    ];
    if not_found.iter().any(|n| lower.contains(n)) {
        return Failure::NotFound(msg);
    }
    if lower.contains("http status 5") || network.is_some() {
        return Failure::Error(Error::Network {
            host: url.host.clone(),
            what: format!("fetching `{}`", url.fetch_url),
            message: network.map_or(msg.clone(), |n| format!("{n} ({msg})")),
            transient: true,
        });
    }
    if !during_handshake && lower.contains("too large to fit in memory") {
        // gix refused to allocate for one object (or the delta tree) beyond
        // `gitoxide.objects.allocLimit`: the object is at least one byte larger than that.
        return Failure::Error(Error::LimitExceeded(crate::error::LimitError {
            limit: "git_alloc_limit",
            max: alloc_limit,
            value: alloc_limit.saturating_add(1),
        }));
    }
    if !during_handshake && (lower.contains("consume the pack") || lower.contains("received pack"))
    {
        // The server sent a pack gix refused (bad header, delta, checksum): not a network
        // failure, and not the server refusing our request either.
        return Failure::Error(Error::Git {
            url: url.fetch_url.clone(),
            message: format!("the server sent an invalid pack: {msg}"),
        });
    }
    if during_handshake {
        // The server answered, but not as a git server would.
        Failure::NotFound(msg)
    } else {
        Failure::Refused(msg)
    }
}

/// Run `f` on its own thread with a stop flag that is set when the caller interrupts, the
/// wall-clock limit passes, or the incoming pack grows beyond the byte limit. Returns `f`'s
/// result and the reason when stopped.
///
/// gix sees the flag only while it receives a pack; a read blocked in the handshake (a server
/// that stalls) would not. So once stopped, the fetch gets [`STOP_GRACE`] to wind down and is
/// then left behind: its thread ends on its own at its next read timeout, and we return at once.
/// `None` as the result means it was left behind.
fn guarded<T: Send + 'static>(
    repo_path: &Path,
    options: &Options,
    should_interrupt: &AtomicBool,
    f: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> (Option<T>, Option<String>) {
    let pack_dir = repo_path.join("objects").join("pack");
    let before = dir_size(&pack_dir);
    let start = Instant::now();
    let mut ticks = 0u32;
    super::thread::stoppable("provenance-fetch", f, STOP_GRACE, || {
        ticks += 1;
        if should_interrupt.load(Ordering::Relaxed) {
            Some("interrupted".to_owned())
        } else if start.elapsed() > options.fetch_timeout {
            Some(format!(
                "timed out: the fetch took longer than {} s",
                options.fetch_timeout.as_secs()
            ))
        } else if ticks.is_multiple_of(10)
            && dir_size(&pack_dir).saturating_sub(before) > options.max_fetch_bytes
        {
            Some(format!(
                "limit `max_fetch_bytes` exceeded: more than {} bytes received",
                options.max_fetch_bytes
            ))
        } else {
            None
        }
    })
}

/// How long a stopped fetch may take to wind down before it is left behind.
const STOP_GRACE: Duration = Duration::from_millis(500);

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    })
}

/// Fetch `specs` from `url` into `repo`. `list_only`: stop after the ref advertisement.
pub(crate) fn fetch(
    repo: &gix::Repository,
    url: &RepoUrl,
    specs: &[String],
    shallow: Shallow,
    list_only: bool,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<Received, Failure> {
    // Everything the fetch thread needs is owned: it may outlive this call (see `guarded`).
    let remote_repo = repo.clone();
    let (url_owned, options_owned, specs_owned) = (url.clone(), options.clone(), specs.to_vec());
    let budget = net::Budget::new(
        "max_ref_advertisement_bytes",
        options
            .max_refs
            .saturating_mul(net::ADVERTISEMENT_BYTES_PER_REF),
    );
    let refusal: net::Refusal = std::sync::Arc::default();
    let (budget_w, refusal_w) = (budget.clone(), refusal.clone());
    let (result, stopped) = guarded(repo.path(), options, should_interrupt, move |stop| {
        let (url, options) = (&url_owned, &options_owned);
        let remote = remote_repo
            .remote_at(url.fetch_url.as_str())
            .and_then(|r| {
                r.with_fetch_tags(gix::remote::fetch::Tags::None)
                    .with_refspecs(specs_owned.iter().map(String::as_str), Direction::Fetch)
            })
            .map_err(|e| Connect::Setup(render(&e)))?;
        let transport = match net::transport(url, options, &budget_w, &refusal_w) {
            Ok(t) => t,
            Err(message) => return Err(Connect::Ours(message)),
        };
        let conn = remote
            .to_connection_with_transport(transport)
            .with_credentials(|_| Ok(None));
        let prep = match conn.prepare_fetch(
            gix::progress::Discard,
            gix::remote::ref_map::Options {
                prefix_from_spec_as_filter_on_remote: false,
                ..Default::default()
            },
        ) {
            Ok(p) => p,
            Err(e) => return Err(Connect::Gix(e, true)),
        };
        budget_w.pack_phase(options.max_fetch_bytes, options.max_pack_objects);
        let refs = convert_refs(&prep.ref_map().remote_refs);
        if list_only || refs.len() as u64 > options.max_refs {
            return Ok((refs, None));
        }
        match prep
            .with_shallow(shallow)
            .receive(gix::progress::Discard, stop)
        {
            Ok(outcome) => Ok((refs, Some(outcome))),
            Err(e) => Err(Connect::Gix(e, false)),
        }
    });
    let Some(result) = result else {
        // Left behind after a stop (interrupt, wall-clock limit) or the thread died.
        return Err(match stopped.as_deref() {
            Some("interrupted") => Failure::Error(Error::Interrupted),
            why => Failure::Error(Error::Network {
                host: url.host.clone(),
                what: format!("fetching `{}`", url.fetch_url),
                message: why.unwrap_or("the fetch stopped").to_owned(),
                transient: true,
            }),
        });
    };
    if let Some(reason) = refusal.lock().expect("not poisoned").take() {
        return Err(Failure::Error(Error::UrlPolicy {
            url: url.fetch_url.clone(),
            reason,
        }));
    }
    if let Some(limit) = budget.exceeded() {
        return Err(Failure::Error(Error::LimitExceeded(limit)));
    }
    let (refs, outcome) = match result {
        Ok(r) => r,
        Err(Connect::Gix(e, handshake)) => {
            return Err(classify(
                &e,
                url,
                handshake,
                stopped.as_deref(),
                options.limits.git_alloc_limit,
            ));
        }
        Err(Connect::Setup(message)) => {
            return Err(Failure::Error(Error::Git {
                url: url.fetch_url.clone(),
                message,
            }));
        }
        Err(Connect::Ours(message)) => {
            return Err(Failure::Error(Error::Network {
                host: url.host.clone(),
                what: format!("fetching `{}`", url.fetch_url),
                message,
                transient: true,
            }));
        }
    };
    if refs.len() as u64 > options.max_refs {
        return Err(Failure::Error(Error::LimitExceeded(
            crate::error::LimitError {
                limit: "max_refs",
                max: options.max_refs,
                value: refs.len() as u64,
            },
        )));
    }
    Ok(received(refs, outcome))
}

/// What a fetch received: the advertised refs, the fetched tips, objects and pack bytes.
fn received(refs: Vec<RemoteRef>, outcome: Option<gix::remote::fetch::Outcome>) -> Received {
    let mut received = Received {
        refs,
        ..Received::default()
    };
    if let Some(outcome) = outcome {
        for m in &outcome.ref_map.mappings {
            let name = match &m.remote {
                gix::remote::fetch::refmap::Source::ObjectId(id) => id.to_string(),
                gix::remote::fetch::refmap::Source::Ref(r) => r.unpack().0.to_string(),
            };
            if let Some(id) = m.remote.as_id() {
                received.tips.push((name, id.to_owned()));
            }
        }
        if let gix::remote::fetch::Status::Change {
            write_pack_bundle, ..
        } = &outcome.status
        {
            received.objects = u64::from(write_pack_bundle.index.num_objects);
            received.bytes = write_pack_bundle
                .data_path
                .as_ref()
                .and_then(|p| std::fs::metadata(p).ok())
                .map_or(0, |m| m.len());
        }
    }
    received
}

/// The advertised refs with valid names (git's `check-ref-format`); others (`refs/tags/../x`,
/// `a..b`, control characters, `.lock`) are skipped: never used as tips, tags or stored.
fn convert_refs(refs: &[gix::protocol::handshake::Ref]) -> Vec<RemoteRef> {
    let mut out: Vec<RemoteRef> = refs
        .iter()
        .filter_map(|r| {
            let (name, target, peeled) = r.unpack();
            gix::validate::reference::name(name).ok()?;
            Some(RemoteRef {
                name: name.to_string(),
                target: target?.to_owned(),
                peeled: peeled.map(ToOwned::to_owned),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Whether `name` is a branch or a tag.
pub(crate) fn is_branch_or_tag(name: &str) -> bool {
    name.starts_with("refs/heads/") || name.starts_with("refs/tags/")
}

/// The first branch or tag (branches first, then by name) whose tip is `commit`.
pub(crate) fn tip_ref(refs: &[RemoteRef], commit: ObjectId) -> Option<String> {
    let mut hits: Vec<&RemoteRef> = refs
        .iter()
        .filter(|r| is_branch_or_tag(&r.name) && r.tip() == commit)
        .collect();
    hits.sort_by_key(|r| (!r.name.starts_with("refs/heads/"), r.name.clone()));
    hits.first().map(|r| r.name.clone())
}

/// Walk the history present locally from `tips`, looking for `commit`. Stops at missing objects
/// (shallow boundary), at commits older than `cutoff`, and after `max` commits.
pub(crate) fn reaches(
    repo: &gix::Repository,
    tips: &[(String, ObjectId)],
    commit: ObjectId,
    cutoff: Option<i64>,
    max: u64,
) -> Option<String> {
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut order: Vec<&(String, ObjectId)> = tips.iter().collect();
    order.sort_by_key(|(n, _)| (!n.starts_with("refs/heads/"), n.clone()));
    for (name, tip) in order {
        let mut queue = VecDeque::from([*tip]);
        while let Some(id) = queue.pop_front() {
            if id == commit {
                return Some(name.clone());
            }
            if !seen.insert(id) || seen.len() as u64 > max {
                continue;
            }
            let Ok(c) = repo.find_commit(id) else {
                continue;
            };
            if let (Some(cut), Ok(t)) = (cutoff, c.time())
                && t.seconds < cut
            {
                continue;
            }
            queue.extend(c.parent_ids().map(gix::Id::detach));
        }
    }
    None
}

/// The branches fetched again with `deepen-since` one second before `time` (into
/// `refs/provenance/heads/*`): enough history to walk from every branch tip back to a commit
/// of that time (see [`reaches`]).
pub(crate) fn fetch_heads_since(
    repo: &gix::Repository,
    url: &RepoUrl,
    time: i64,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<Received, Failure> {
    let cutoff = gix::date::Time::new(time.saturating_sub(1), 0);
    fetch(
        repo,
        url,
        &["+refs/heads/*:refs/provenance/heads/*".into()],
        Shallow::Since { cutoff },
        false,
        options,
        should_interrupt,
    )
}

/// The commit time of `id`, if present.
pub(crate) fn commit_time(repo: &gix::Repository, id: ObjectId) -> Option<i64> {
    repo.find_commit(id).ok()?.time().ok().map(|t| t.seconds)
}

/// Whether `id` is present as a commit.
pub(crate) fn has_commit(repo: &gix::Repository, id: ObjectId) -> bool {
    repo.find_object(id)
        .is_ok_and(|o| o.kind == gix::object::Kind::Commit)
}

/// Point `refs/tags/<name>` (and similar) at `id` in the cache repository.
pub(crate) fn set_ref(repo: &gix::Repository, name: &str, id: ObjectId) {
    let _ = repo.reference(
        name,
        id,
        gix::refs::transaction::PreviousValue::Any,
        "crate-provenance fetch",
    );
}

/// The path of the record for `what` (a commit id or a tag list key).
pub(crate) fn record_path(repo_path: &Path, what: &str) -> PathBuf {
    repo_path.join("provenance").join(format!("{what}.json"))
}
