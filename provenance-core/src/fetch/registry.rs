//! The sparse registry protocol (cargo `src/cargo/sources/registry/http_remote.rs`,
//! `doc/book/src/reference/registry-index.md`): `config.json` for the download template, one
//! index file per crate with a JSON line per version, and the `.crate` download verified against
//! the index `cksum` before anything parses it.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use sha2::Digest;

use super::cache::Cache;
use super::error::{Error, chain, describe_reqwest};
use super::options::Options;
use super::url as urlpolicy;
use crate::progress::{Progress, Stage};

/// The default registry: crates.io's sparse index.
pub const CRATES_IO_INDEX: &str = "https://index.crates.io/";

/// Maximum size of one index file (crates.io's largest are a few MiB).
pub(super) const MAX_INDEX_BYTES: u64 = 32 << 20;
/// Maximum size of `config.json`.
const MAX_CONFIG_BYTES: u64 = 64 << 10;

/// Where the index lives.
#[derive(Debug, Clone)]
enum Location {
    Http(url::Url),
    Dir(PathBuf),
    /// A cargo `local-registry` (`index/…` files, `NAME-VERSION.crate` beside them).
    Local(PathBuf),
}

/// One version line of an index file (only the fields we use).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IndexLine {
    /// Crate name, as published.
    pub name: String,
    /// Version.
    pub vers: String,
    /// Lowercase hex sha256 of the `.crate`.
    pub cksum: String,
    /// Whether the version is yanked.
    #[serde(default)]
    pub yanked: bool,
    /// When the version was published (RFC 3339), if the index records it.
    #[serde(default)]
    pub pubtime: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Config {
    dl: String,
}

/// A downloaded (or cached) `.crate`, verified against the index.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The bytes (exactly those that were hashed).
    pub bytes: Vec<u8>,
    /// Their sha256 (= the index `cksum`).
    pub sha256: String,
    /// The index entry.
    pub entry: IndexLine,
    /// The download URL (or cached file).
    pub url: String,
    /// Whether it came from the cache (no download).
    pub from_cache: bool,
}

/// A sparse registry client.
#[derive(Debug)]
pub struct Registry {
    location: Location,
    pub(super) index_key: String,
    /// Made on first use: a local registry never needs one (building a client loads the
    /// system's root certificates, several milliseconds per verification).
    client: std::sync::OnceLock<reqwest::blocking::Client>,
    pub(super) options: Options,
}

pub(crate) use super::net::{http_client, http_client_with};

/// The sparse index path of a crate name (`1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`), lowercased.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(super) fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 150
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

impl Registry {
    /// A client for the registry whose sparse index is at `index_url` (`sparse+` prefix
    /// optional; `file://` for a local directory); `None` = crates.io.
    pub fn new(index_url: Option<&str>, options: &Options) -> Result<Registry, Error> {
        let raw = index_url.unwrap_or(CRATES_IO_INDEX);
        let (raw, local) = match raw.strip_prefix("local-registry+") {
            Some(r) => (r, true),
            None => (raw.strip_prefix("sparse+").unwrap_or(raw), false),
        };
        let policy = |reason: &str| Error::UrlPolicy {
            url: crate::text::escape(raw.as_bytes()),
            reason: reason.to_owned(),
        };
        let parsed =
            url::Url::parse(raw).map_err(|e| policy(&format!("invalid index URL: {e}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(policy("index URLs with credentials are refused"));
        }
        let location = match parsed.scheme() {
            "file" if local => Location::Local(
                parsed
                    .to_file_path()
                    .map_err(|()| policy("not a local `file://` directory"))?,
            ),
            _ if local => return Err(policy("a local registry is a `file://` directory")),
            "file" => Location::Dir(
                parsed
                    .to_file_path()
                    .map_err(|()| policy("not a local `file://` directory"))?,
            ),
            "https" => {
                if !options.allow_insecure_transport
                    && urlpolicy::is_private_host(parsed.host().as_ref())
                {
                    return Err(policy(
                        "the index host is a loopback, private or link-local address",
                    ));
                }
                Location::Http(parsed.clone())
            }
            "http" if options.allow_insecure_transport => Location::Http(parsed.clone()),
            "http" => {
                return Err(policy(
                    "`http://` indexes are refused (pass `--allow-insecure-transport` to allow them)",
                ));
            }
            other => {
                return Err(policy(&format!(
                    "the `{other}` scheme is not a sparse index"
                )));
            }
        };
        let mut key = parsed.as_str().trim_end_matches('/').to_owned();
        key.push('/');
        Ok(Registry {
            location,
            index_key: key,
            client: std::sync::OnceLock::new(),
            options: options.clone(),
        })
    }

    /// The HTTP client and index base URL (`None` for a local `file://` index), for
    /// [`super::poll`].
    pub(super) fn http_parts(
        &self,
    ) -> Result<Option<(&reqwest::blocking::Client, &url::Url)>, Error> {
        match &self.location {
            Location::Http(u) => Ok(Some((self.client()?, u))),
            Location::Dir(_) | Location::Local(_) => Ok(None),
        }
    }

    /// The HTTP client, made on first use.
    fn client(&self) -> Result<&reqwest::blocking::Client, Error> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = http_client(&self.options)?;
        Ok(self.client.get_or_init(|| c))
    }

    /// The local directory of a `file://` index (a `local-registry`'s `index/`).
    pub(super) fn index_dir(&self) -> Option<PathBuf> {
        match &self.location {
            Location::Dir(d) => Some(d.clone()),
            Location::Local(d) => Some(d.join("index")),
            Location::Http(_) => None,
        }
    }

    pub(super) fn host(&self) -> String {
        match &self.location {
            Location::Http(u) => u.host_str().unwrap_or_default().to_owned(),
            Location::Dir(d) | Location::Local(d) => d.display().to_string(),
        }
    }

    /// GET `url` with bounded size and retries for transient failures. `Ok(None)` = 404/410.
    fn get(
        &self,
        url: &str,
        max: u64,
        what: &str,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<Option<Vec<u8>>, Error> {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let mut attempt = 0;
        loop {
            if should_interrupt.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            match self.get_once(url, max, what, &host, progress, should_interrupt) {
                Err(Error::Network {
                    transient: true, ..
                }) if attempt < self.options.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(250 << attempt.min(4)));
                }
                Err(Error::Network {
                    host,
                    what,
                    message,
                    ..
                }) => {
                    return Err(Error::Network {
                        host,
                        what,
                        message,
                        transient: false,
                    });
                }
                other => return other,
            }
        }
    }

    /// One GET. The request runs on its own thread and hands the body over in chunks, so an
    /// interrupt is seen within 50 ms even while the server stalls (the stalled request is left
    /// to end at its timeout).
    fn get_once(
        &self,
        url: &str,
        max: u64,
        what: &str,
        host: &str,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<Option<Vec<u8>>, Error> {
        let net = |message: String, transient: bool| Error::Network {
            host: host.to_owned(),
            what: what.to_owned(),
            message,
            transient,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(4);
        let client = self.client()?.clone();
        let (target, host_w) = (url.to_owned(), host.to_owned());
        let spawned = std::thread::Builder::new()
            .name("provenance-registry".into())
            .spawn(move || get_on_thread(&client, &target, &host_w, &tx));
        if let Err(e) = spawned {
            return Err(net(format!("cannot start the download thread: {e}"), true));
        }
        let mut declared = None;
        let mut out = Vec::new();
        loop {
            let msg = match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(m) => m,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if should_interrupt.load(std::sync::atomic::Ordering::Relaxed) {
                        return Err(Error::Interrupted);
                    }
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(net("the download thread stopped".into(), true));
                }
            };
            match msg {
                Msg::Failed(message, transient) => return Err(net(message, transient)),
                Msg::Head(status, len) => {
                    if status == reqwest::StatusCode::NOT_FOUND
                        || status == reqwest::StatusCode::GONE
                    {
                        return Ok(None);
                    }
                    if !status.is_success() {
                        return Err(net(
                            format!("HTTP status {status}"),
                            status.is_server_error()
                                || status == reqwest::StatusCode::TOO_MANY_REQUESTS,
                        ));
                    }
                    if let Some(len) = len
                        && len > max
                    {
                        return Err(Error::LimitExceeded(crate::error::LimitError {
                            limit: "max_crate_bytes",
                            max,
                            value: len,
                        }));
                    }
                    declared = len;
                }
                Msg::Chunk(bytes) => {
                    if should_interrupt.load(std::sync::atomic::Ordering::Relaxed) {
                        return Err(Error::Interrupted);
                    }
                    out.extend_from_slice(&bytes);
                    progress.inc(bytes.len() as u64);
                    if out.len() as u64 > max {
                        return Err(Error::LimitExceeded(crate::error::LimitError {
                            limit: "max_crate_bytes",
                            max,
                            value: out.len() as u64,
                        }));
                    }
                }
                Msg::Done => break,
            }
        }
        if let Some(len) = declared
            && len != out.len() as u64
        {
            return Err(net(
                format!("truncated: {} of {len} bytes received", out.len()),
                true,
            ));
        }
        Ok(Some(out))
    }

    fn read_index_file(
        &self,
        rel: &str,
        max: u64,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<Option<Vec<u8>>, Error> {
        match &self.location {
            Location::Dir(d) | Location::Local(d) => {
                let p = if matches!(self.location, Location::Local(_)) {
                    d.join("index").join(rel)
                } else {
                    d.join(rel)
                };
                super::cache::read_limited(&p, max).map_err(|e| Error::Cache {
                    path: p.display().to_string(),
                    message: format!("cannot read: {e}"),
                })
            }
            Location::Http(base) => {
                let url = base.join(rel).map_err(|e| Error::UrlPolicy {
                    url: base.to_string(),
                    reason: e.to_string(),
                })?;
                self.get(
                    url.as_str(),
                    max,
                    &format!("fetching `{rel}` from the registry index"),
                    progress,
                    should_interrupt,
                )
            }
        }
    }

    /// The index entry of `name@version` (from the network, or the cache when offline).
    pub fn entry(
        &self,
        cache: &Cache,
        name: &str,
        version: &str,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<IndexLine, Error> {
        if !valid_name(name) || !valid_version(version) {
            return Err(Error::InvalidInput {
                message: format!(
                    "`{}@{}` is not a valid crate name and version",
                    crate::text::escape(name.as_bytes()),
                    crate::text::escape(version.as_bytes())
                ),
            });
        }
        let rel = index_path(name);
        let cached = cache
            .index_dir(&self.index_key)?
            .join(name.to_ascii_lowercase());
        let fresh = std::fs::metadata(&cached)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age <= self.options.index_ttl);
        let read_cached = || {
            super::cache::read_limited(&cached, MAX_INDEX_BYTES).map_err(|e| Error::Cache {
                path: cached.display().to_string(),
                message: format!("cannot read: {e}"),
            })
        };
        if self.options.offline || fresh {
            match read_cached()? {
                Some(data) => {
                    if let Some(e) = find_version(&data, name, version)? {
                        return Ok(e);
                    }
                    if self.options.offline {
                        return Err(Error::Offline {
                            what: format!("the index entry of `{name}@{version}`"),
                        });
                    }
                }
                None if self.options.offline => {
                    return Err(Error::Offline {
                        what: format!("the index entry of `{name}`"),
                    });
                }
                None => {}
            }
        }
        let Some(data) = self.read_index_file(&rel, MAX_INDEX_BYTES, progress, should_interrupt)?
        else {
            return Err(Error::CrateNotFound {
                name: name.to_owned(),
                version: None,
                registry: self.host(),
            });
        };
        cache.write_atomic(&cached, &data)?;
        find_version(&data, name, version)?.ok_or_else(|| Error::CrateNotFound {
            name: name.to_owned(),
            version: Some(version.to_owned()),
            registry: self.host(),
        })
    }

    /// Every version of `name` in the index (yanked ones included), in index order: from the
    /// network, or the cache when offline.
    pub fn versions(
        &self,
        cache: &Cache,
        name: &str,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<Vec<IndexLine>, Error> {
        if !valid_name(name) {
            return Err(Error::InvalidInput {
                message: format!(
                    "`{}` is not a valid crate name",
                    crate::text::escape(name.as_bytes())
                ),
            });
        }
        let cached = cache
            .index_dir(&self.index_key)?
            .join(name.to_ascii_lowercase());
        let data = if self.options.offline {
            super::cache::read_limited(&cached, MAX_INDEX_BYTES)
                .map_err(|e| Error::Cache {
                    path: cached.display().to_string(),
                    message: format!("cannot read: {e}"),
                })?
                .ok_or_else(|| Error::Offline {
                    what: format!("the index entry of `{name}`"),
                })?
        } else {
            let data = self
                .read_index_file(
                    &index_path(name),
                    MAX_INDEX_BYTES,
                    progress,
                    should_interrupt,
                )?
                .ok_or_else(|| Error::CrateNotFound {
                    name: name.to_owned(),
                    version: None,
                    registry: self.host(),
                })?;
            cache.write_atomic(&cached, &data)?;
            data
        };
        Ok(String::from_utf8_lossy(&data)
            .lines()
            .filter_map(|l| serde_json::from_str::<IndexLine>(l).ok())
            .filter(|e| e.name.eq_ignore_ascii_case(name) && valid_version(&e.vers))
            .collect())
    }

    fn download_url(
        &self,
        entry: &IndexLine,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<String, Error> {
        if let Location::Local(d) = &self.location {
            // cargo's local registry: the `.crate` files beside `index/`, no `config.json`.
            let p = d.join(format!("{}-{}.crate", entry.name, entry.vers));
            return url::Url::from_file_path(&p)
                .map(String::from)
                .map_err(|()| Error::InvalidIndex {
                    message: format!("`{}` is not an absolute path", p.display()),
                });
        }
        let data = self
            .read_index_file("config.json", MAX_CONFIG_BYTES, progress, should_interrupt)?
            .ok_or_else(|| Error::InvalidIndex {
                message: format!("`config.json` not found in the index at `{}`", self.host()),
            })?;
        let config: Config = serde_json::from_slice(&data).map_err(|e| Error::InvalidIndex {
            message: format!(
                "`config.json` is invalid: {e} (it begins `{}`)",
                crate::text::escape(&data[..data.len().min(48)])
            ),
        })?;
        let name = &entry.name;
        let prefix = index_path(name);
        let prefix = prefix.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
        let markers = [
            "{crate}",
            "{version}",
            "{prefix}",
            "{lowerprefix}",
            "{sha256-checksum}",
        ];
        let url = if markers.iter().any(|m| config.dl.contains(m)) {
            config
                .dl
                .replace("{crate}", name)
                .replace("{version}", &entry.vers)
                .replace("{lowerprefix}", &prefix.to_ascii_lowercase())
                .replace("{prefix}", &prefix)
                .replace("{sha256-checksum}", &entry.cksum)
        } else {
            format!(
                "{}/{name}/{}/download",
                config.dl.trim_end_matches('/'),
                entry.vers
            )
        };
        let parsed = url::Url::parse(&url).map_err(|e| Error::InvalidIndex {
            message: format!(
                "download URL `{}` is invalid: {e}",
                crate::text::escape(url.as_bytes())
            ),
        })?;
        let ok = match parsed.scheme() {
            "https" => {
                self.options.allow_insecure_transport
                    || !urlpolicy::is_private_host(parsed.host().as_ref())
            }
            "http" => self.options.allow_insecure_transport,
            "file" => matches!(self.location, Location::Dir(_) | Location::Local(_)),
            _ => false,
        };
        if !ok || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::UrlPolicy {
                url: crate::text::escape(url.as_bytes()),
                reason: "download URL refused by the transport policy".into(),
            });
        }
        Ok(url)
    }

    /// Download `name@version` (or take it from the cache), verified against the index `cksum`.
    pub fn download(
        &self,
        cache: &Cache,
        name: &str,
        version: &str,
        progress: &mut dyn Progress,
        should_interrupt: &AtomicBool,
    ) -> Result<Downloaded, Error> {
        let entry = self.entry(cache, name, version, progress, should_interrupt)?;
        let max = self.options.limits.max_crate_bytes;
        if let Some(bytes) = cache.read_crate(&entry.cksum, max)? {
            // Report the registry URL, as a download would, so reports do not depend on the
            // cache; fall back to the cached file only if the download URL cannot be derived.
            let sidecar = cache.crate_path(&entry.cksum).with_extension("crate.url");
            let url = super::cache::read_limited(&sidecar, 8192)
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| cache.crate_path(&entry.cksum).display().to_string());
            return Ok(Downloaded {
                bytes,
                sha256: entry.cksum.clone(),
                url,
                entry,
                from_cache: true,
            });
        }
        if self.options.offline {
            return Err(Error::Offline {
                what: format!("`{name}@{version}`"),
            });
        }
        let url = self.download_url(&entry, progress, should_interrupt)?;
        progress.stage(Stage::Download, None);
        let bytes = if let Ok(u) = url::Url::parse(&url)
            && u.scheme() == "file"
        {
            let p = u.to_file_path().unwrap_or_default();
            super::cache::read_limited(&p, max)
                .map_err(|e| Error::Cache {
                    path: p.display().to_string(),
                    message: format!("cannot read: {e}"),
                })?
                .ok_or_else(|| Error::CrateNotFound {
                    name: name.to_owned(),
                    version: Some(version.to_owned()),
                    registry: self.host(),
                })?
        } else {
            self.get(
                &url,
                max,
                &format!("downloading `{name}@{version}`"),
                progress,
                should_interrupt,
            )?
            .ok_or_else(|| Error::CrateNotFound {
                name: name.to_owned(),
                version: Some(version.to_owned()),
                registry: self.host(),
            })?
        };
        if bytes.len() as u64 > max {
            return Err(Error::LimitExceeded(crate::error::LimitError {
                limit: "max_crate_bytes",
                max,
                value: bytes.len() as u64,
            }));
        }
        let actual = crate::ids::hex(&sha2::Sha256::digest(&bytes));
        if actual != entry.cksum {
            return Err(Error::ChecksumMismatch {
                name: name.to_owned(),
                version: version.to_owned(),
                expected: entry.cksum.clone(),
                actual,
            });
        }
        let path = cache.write_crate(&actual, &bytes)?;
        // Remember where it came from, so a cache hit reports the same URL.
        cache.write_atomic(&path.with_extension("crate.url"), url.as_bytes())?;
        Ok(Downloaded {
            bytes,
            sha256: actual,
            entry,
            url,
            from_cache: false,
        })
    }
}

/// What the download thread hands over.
enum Msg {
    Head(reqwest::StatusCode, Option<u64>),
    Chunk(Vec<u8>),
    Done,
    /// (message, transient)
    Failed(String, bool),
}

/// The download thread of [`Registry::get_once`]: one GET, the status and declared length,
/// then the body in chunks, until the receiver hangs up.
fn get_on_thread(
    client: &reqwest::blocking::Client,
    target: &str,
    host_w: &str,
    tx: &std::sync::mpsc::SyncSender<Msg>,
) {
    let mut resp = match client.get(target).send() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Msg::Failed(
                describe_reqwest(&e, host_w),
                e.is_timeout() || e.is_connect(),
            ));
            return;
        }
    };
    let declared: Option<u64> = resp
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    if tx.send(Msg::Head(resp.status(), declared)).is_err() {
        return;
    }
    let mut received = 0usize;
    loop {
        let mut buf = vec![0u8; 64 << 10];
        let msg = match resp.read(&mut buf) {
            Ok(0) => Msg::Done,
            Ok(n) => {
                buf.truncate(n);
                received += n;
                Msg::Chunk(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let timeout = chain(&e).contains("timed out");
                Msg::Failed(
                    format!(
                        "{} after {received} bytes: {}",
                        if timeout {
                            "timed out"
                        } else {
                            "the transfer broke off"
                        },
                        chain(&e)
                    ),
                    true,
                )
            }
        };
        let last = matches!(msg, Msg::Done | Msg::Failed(..));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

/// The line of `version` in an index file, `None` when absent.
fn find_version(data: &[u8], name: &str, version: &str) -> Result<Option<IndexLine>, Error> {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(entry) = serde_json::from_str::<IndexLine>(line) else {
            continue;
        };
        if entry.vers == version && entry.name.eq_ignore_ascii_case(name) {
            if entry.cksum.len() != 64 || !entry.cksum.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::InvalidIndex {
                    message: format!("the `cksum` of `{name}@{version}` is not a sha256"),
                });
            }
            return Ok(Some(IndexLine {
                cksum: entry.cksum.to_ascii_lowercase(),
                ..entry
            }));
        }
    }
    Ok(None)
}
