//! Our own connections for gix: every byte a git server sends is counted against a budget, and
//! host names are resolved once, checked against the address policy, and connected to at
//! exactly the addresses that were checked (no second lookup a DNS rebinding could change).
//!
//! gix reads the ref advertisement into memory without a bound and its own resolvers connect to
//! whatever a name resolves to; these wrappers close both gaps without touching the protocol:
//! - HTTP(S): gix's reqwest backend, wrapped by [`Limited`] (counting headers and bodies) and
//!   configured with [`PolicyResolver`] as reqwest's DNS resolver;
//! - `git://` (test and opt-in only): our own `TcpStream` to a checked address, with read and
//!   write timeouts, wrapped by [`Counted`].
//!
//! The budget has two phases: the ref advertisement (`256 × max_refs` bytes, so an endless
//! advertisement stops long before memory matters) and the pack (`max_fetch_bytes`).

use std::io::{BufRead, Read};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gix::protocol::transport::client::blocking_io::http as gix_http;
use gix::protocol::transport::{Protocol, client::git::ConnectMode};

use super::error::{Error, chain};
use super::options::Options;
use super::url::{RepoUrl, Transport};
use crate::error::LimitError;

/// Bytes of ref advertisement allowed per permitted ref (`max_refs`).
pub(crate) const ADVERTISEMENT_BYTES_PER_REF: u64 = 256;

/// A byte budget shared by every reader of one connection.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicU64,
    limit: AtomicU64,
    name: Mutex<&'static str>,
    exceeded: Mutex<Option<LimitError>>,
    /// The most objects a pack may declare (0: not in the pack phase yet).
    max_objects: AtomicU64,
}

impl Budget {
    /// A budget named `name` (a limit's name) allowing `limit` bytes.
    pub(crate) fn new(name: &'static str, limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicU64::new(0),
            limit: AtomicU64::new(limit),
            name: Mutex::new(name),
            exceeded: Mutex::new(None),
            max_objects: AtomicU64::new(0),
        })
    }

    /// Start a new phase: `limit` more bytes under the name `name`.
    pub(crate) fn phase(&self, name: &'static str, limit: u64) {
        *self.name.lock().expect("not poisoned") = name;
        self.limit.store(limit, Ordering::SeqCst);
        self.used.store(0, Ordering::SeqCst);
    }

    /// Enter the pack phase: `max_fetch_bytes` more bytes, and a pack declaring more than
    /// `max_objects` objects is refused before gix sees its header.
    pub(crate) fn pack_phase(&self, max_bytes: u64, max_objects: u64) {
        self.phase("max_fetch_bytes", max_bytes);
        self.max_objects.store(max_objects.max(1), Ordering::SeqCst);
    }

    /// Remember (first wins) and describe an exceeded limit.
    fn exceed(&self, err: LimitError) -> std::io::Error {
        let msg = err.to_string();
        self.exceeded
            .lock()
            .expect("not poisoned")
            .get_or_insert(err);
        std::io::Error::other(msg)
    }

    /// The limit that was exceeded, if any.
    pub(crate) fn exceeded(&self) -> Option<LimitError> {
        self.exceeded.lock().expect("not poisoned").clone()
    }

    fn add(&self, n: usize) {
        self.used.fetch_add(n as u64, Ordering::SeqCst);
    }

    /// Fail (and remember why) once more than the limit was received.
    fn check(&self) -> std::io::Result<()> {
        let used = self.used.load(Ordering::SeqCst);
        let max = self.limit.load(Ordering::SeqCst);
        if used <= max {
            return Ok(());
        }
        Err(self.exceed(LimitError {
            limit: *self.name.lock().expect("not poisoned"),
            max,
            value: used,
        }))
    }

    /// Watch `bytes` (about to be handed to gix) for a pack header declaring too many objects.
    fn watch(&self, watch: &mut Option<PackWatch>, bytes: &[u8]) -> std::io::Result<()> {
        let max = self.max_objects.load(Ordering::SeqCst);
        if max == 0 || bytes.is_empty() {
            return Ok(());
        }
        let w = watch.get_or_insert_with(PackWatch::default);
        if let Some(count) = w.feed(bytes)
            && count > max
        {
            return Err(self.exceed(LimitError {
                limit: "max_pack_objects",
                max,
                value: count,
            }));
        }
        Ok(())
    }
}

/// Finds the object count of the pack header in a response: pkt-lines (the pack on side-band
/// channel 1, protocol v0–v2) or a raw pack (v0 without side-band).
#[derive(Debug, Default)]
struct PackWatch {
    len: Vec<u8>,
    remaining: usize,
    /// `None`: the band byte of the current pkt-line is next.
    band1: Option<bool>,
    raw: bool,
    header: Vec<u8>,
    done: bool,
}

impl PackWatch {
    /// Feed the next bytes; returns the declared object count once the header is complete.
    fn feed(&mut self, mut bytes: &[u8]) -> Option<u64> {
        while !self.done && !bytes.is_empty() {
            if self.raw {
                let take = (12 - self.header.len()).min(bytes.len());
                self.header.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
            } else if self.remaining == 0 {
                self.len.push(bytes[0]);
                bytes = &bytes[1..];
                if self.len.len() == 4 {
                    if self.len == b"PACK" {
                        self.raw = true;
                        self.header = std::mem::take(&mut self.len);
                        continue;
                    }
                    let n = std::str::from_utf8(&self.len)
                        .ok()
                        .and_then(|h| usize::from_str_radix(h, 16).ok());
                    self.len.clear();
                    match n {
                        Some(n) if n > 4 => {
                            self.remaining = n - 4;
                            self.band1 = None;
                        }
                        Some(_) => {}
                        None => self.done = true,
                    }
                }
            } else if self.band1.is_none() {
                self.band1 = Some(bytes[0] == 1);
                self.remaining -= 1;
                bytes = &bytes[1..];
            } else {
                let take = self.remaining.min(bytes.len());
                if self.band1 == Some(true) && self.header.len() < 12 {
                    let h = (12 - self.header.len()).min(take);
                    self.header.extend_from_slice(&bytes[..h]);
                    if self.header.len() >= 4 && &self.header[..4] != b"PACK" {
                        self.done = true;
                    }
                }
                self.remaining -= take;
                bytes = &bytes[take..];
            }
            if self.header.len() == 12 && !self.done {
                self.done = true;
                return Some(u64::from(u32::from_be_bytes([
                    self.header[8],
                    self.header[9],
                    self.header[10],
                    self.header[11],
                ])));
            }
        }
        None
    }
}

/// A reader that counts what it yields against a [`Budget`].
pub(crate) struct Counted<R> {
    inner: R,
    budget: Arc<Budget>,
    watch: Option<PackWatch>,
    /// Bytes of the current `fill_buf` buffer already shown to the watcher.
    seen: usize,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R, budget: Arc<Budget>) -> Self {
        Counted {
            inner,
            budget,
            watch: None,
            seen: 0,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.budget.check()?;
        let n = self.inner.read(buf)?;
        self.budget.add(n);
        self.budget.check()?;
        self.budget.watch(&mut self.watch, &buf[..n])?;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.budget.check()?;
        let buf = self.inner.fill_buf()?;
        if self.seen < buf.len() {
            self.budget.watch(&mut self.watch, &buf[self.seen..])?;
            self.seen = buf.len();
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        self.budget.add(amt);
        self.seen = self.seen.saturating_sub(amt);
        self.inner.consume(amt);
    }
}

/// Resolution refused by the address policy (shared with the caller for classification).
pub(crate) type Refusal = Arc<Mutex<Option<String>>>;

/// Resolve `host` once; refuse it when any address is private (unless `allow_private`).
pub(crate) fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("dns lookup of `{host}` failed: {e}"))?
            .collect()
    };
    if addrs.is_empty() {
        return Err(format!("dns lookup of `{host}` returned no address"));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| super::url::is_private_ip(a.ip())) {
        return Err(format!(
            "`{host}` resolves to the private or loopback address `{}`; such hosts are only \
             contacted with `allow_insecure_transport`",
            bad.ip()
        ));
    }
    Ok(addrs)
}

/// reqwest's DNS resolver for repository hosts: [`resolve_checked`], remembering refusals.
pub(crate) struct PolicyResolver {
    allow_private: bool,
    refusal: Refusal,
}

impl PolicyResolver {
    pub(crate) fn new(allow_private: bool, refusal: Refusal) -> Self {
        PolicyResolver {
            allow_private,
            refusal,
        }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let out = match resolve_checked(name.as_str(), 0, self.allow_private) {
            Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
            Err(msg) => {
                if !msg.starts_with("dns lookup") {
                    *self.refusal.lock().expect("not poisoned") = Some(msg.clone());
                }
                Err(msg.into())
            }
        };
        Box::pin(std::future::ready(out))
    }
}

/// gix's reqwest backend with every response counted and our resolver installed.
pub(crate) struct Limited {
    inner: gix_http::reqwest::Remote,
    budget: Arc<Budget>,
    allow_private: bool,
    refusal: Refusal,
}

impl gix_http::Http for Limited {
    type Headers = Counted<<gix_http::reqwest::Remote as gix_http::Http>::Headers>;
    type ResponseBody = Counted<<gix_http::reqwest::Remote as gix_http::Http>::ResponseBody>;
    type PostBody = <gix_http::reqwest::Remote as gix_http::Http>::PostBody;

    fn get(
        &mut self,
        url: &str,
        base_url: &str,
        headers: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> gix::error::Result<gix_http::GetResponse<Self::Headers, Self::ResponseBody>> {
        let r = self.inner.get(url, base_url, headers)?;
        Ok(gix_http::GetResponse {
            headers: Counted::new(r.headers, self.budget.clone()),
            body: Counted::new(r.body, self.budget.clone()),
        })
    }

    fn post(
        &mut self,
        url: &str,
        base_url: &str,
        headers: impl IntoIterator<Item = impl AsRef<str>>,
        body: gix_http::PostBodyDataKind,
    ) -> gix::error::Result<gix_http::PostResponse<Self::Headers, Self::ResponseBody, Self::PostBody>>
    {
        let r = self.inner.post(url, base_url, headers, body)?;
        Ok(gix_http::PostResponse {
            post_body: r.post_body,
            headers: Counted::new(r.headers, self.budget.clone()),
            body: Counted::new(r.body, self.budget.clone()),
        })
    }

    fn configure(&mut self, config: &dyn std::any::Any) -> gix::error::Result {
        let Some(options) = config.downcast_ref::<gix_http::Options>() else {
            return self.inner.configure(config);
        };
        let mut options = options.clone();
        let allow_private = self.allow_private;
        let refusal = self.refusal.clone();
        let backend = gix_http::reqwest::Options {
            configure_client: Some(Box::new(move |builder| {
                Ok(builder
                    .dns_resolver(Arc::new(PolicyResolver::new(
                        allow_private,
                        refusal.clone(),
                    )))
                    .no_proxy())
            })),
            configure_request: None,
        };
        options.backend = Some(Arc::new(Mutex::new(backend)));
        self.inner.configure(&options)
    }

    fn redirected_base_url(&self) -> Option<String> {
        self.inner.redirected_base_url()
    }
}

/// One connection to `url` for gix, with `budget` counting every received byte.
pub(crate) fn transport(
    url: &RepoUrl,
    options: &Options,
    budget: &Arc<Budget>,
    refusal: &Refusal,
) -> Result<Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>, String> {
    let gurl = gix::url::parse(gix::bstr::BStr::new(url.fetch_url.as_bytes()))
        .map_err(|e| format!("cannot parse `{}`: {e}", url.fetch_url))?;
    match url.transport {
        Transport::Https | Transport::Http => {
            let http = Limited {
                inner: gix_http::reqwest::Remote::default(),
                budget: budget.clone(),
                allow_private: options.allow_insecure_transport || url.allow_private,
                refusal: refusal.clone(),
            };
            Ok(Box::new(gix_http::Transport::new_http(
                http,
                gurl,
                Protocol::V2,
                false,
            )))
        }
        Transport::Git => {
            let host = gurl.host().unwrap_or_default().to_owned();
            let port = gurl.port;
            let addrs = resolve_checked(
                &host,
                port.unwrap_or(9418),
                options.allow_insecure_transport || url.allow_private,
            )
            .inspect_err(|m| {
                if !m.starts_with("dns lookup") {
                    *refusal.lock().expect("not poisoned") = Some(m.clone());
                }
            })?;
            let connect_timeout = options.http_timeout.min(Duration::from_secs(20));
            let mut last = String::new();
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, connect_timeout) {
                    Ok(stream) => {
                        let io = |e: std::io::Error| format!("connection to `{addr}`: {e}");
                        stream
                            .set_read_timeout(Some(options.http_timeout))
                            .map_err(io)?;
                        stream
                            .set_write_timeout(Some(options.http_timeout))
                            .map_err(io)?;
                        let write = stream.try_clone().map_err(io)?;
                        let read = Counted::new(stream, budget.clone());
                        let conn =
                            gix::protocol::transport::client::git::blocking_io::Connection::new(
                                read,
                                write,
                                Protocol::V2,
                                gurl.path.clone(),
                                Some((host.clone(), port)),
                                ConnectMode::Daemon,
                                false,
                            );
                        return Ok(Box::new(conn));
                    }
                    Err(e) => last = format!("connection to `{addr}` failed: {e}"),
                }
            }
            Err(last)
        }
        Transport::Local => Err("local repositories are not fetched".into()),
    }
}

/// The HTTP client used for registry requests: rustls, timeouts, no proxies, no credentials,
/// redirects only to the same host and scheme. One per process and (user agent, timeout): the
/// verifications of a batch share it (a client is a handle; building one reads the system's
/// root certificates).
pub(crate) fn http_client(options: &Options) -> Result<reqwest::blocking::Client, Error> {
    type Clients = Mutex<Vec<((String, Duration), reqwest::blocking::Client)>>;
    static CLIENTS: std::sync::OnceLock<Clients> = std::sync::OnceLock::new();
    let key = (options.user_agent.clone(), options.http_timeout);
    let clients = CLIENTS.get_or_init(Clients::default);
    let mut clients = clients
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, c)) = clients.iter().find(|(k, _)| *k == key) {
        return Ok(c.clone());
    }
    let client = http_client_with(options, None)?;
    clients.push((key, client.clone()));
    Ok(client)
}

/// [`http_client`] with `resolver` as the DNS resolver (the address policy for repository hosts).
pub(crate) fn http_client_with(
    options: &Options,
    resolver: Option<Arc<PolicyResolver>>,
) -> Result<reqwest::blocking::Client, Error> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 5 {
            return attempt.error("too many redirects");
        }
        let first = &attempt.previous()[0];
        let next = attempt.url();
        if next.scheme() != first.scheme()
            || next.host_str() != first.host_str()
            || next.port_or_known_default() != first.port_or_known_default()
        {
            let msg =
                format!("redirect from `{first}` to `{next}` refused: another host or scheme");
            return attempt.error(msg);
        }
        attempt.follow()
    });
    let mut builder = reqwest::blocking::Client::builder();
    if let Some(r) = resolver {
        builder = builder.dns_resolver(r);
    }
    builder
        .user_agent(options.user_agent.clone())
        .timeout(options.http_timeout)
        .connect_timeout(options.http_timeout.min(Duration::from_secs(20)))
        .redirect(policy)
        .no_proxy()
        .referer(false)
        .build()
        .map_err(|e| Error::Network {
            host: String::new(),
            what: "creating the HTTP client".into(),
            message: chain(&e),
            transient: false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_and_names_the_limit() {
        let b = Budget::new("max_ref_advertisement_bytes", 10);
        let mut r = Counted::new(std::io::Cursor::new(vec![0u8; 64]), b.clone());
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        let e = r.read(&mut buf).unwrap_err();
        assert!(e.to_string().contains("max_ref_advertisement_bytes"), "{e}");
        let ex = b.exceeded().unwrap();
        assert_eq!(
            (ex.limit, ex.max, ex.value),
            ("max_ref_advertisement_bytes", 10, 16)
        );
        b.phase("max_fetch_bytes", 100);
        assert_eq!(r.read(&mut buf).unwrap(), 8);
    }

    fn pkt(payload: &[u8]) -> Vec<u8> {
        let mut v = format!("{:04x}", payload.len() + 4).into_bytes();
        v.extend_from_slice(payload);
        v
    }

    fn pack_header(count: u32) -> Vec<u8> {
        let mut h = b"PACK".to_vec();
        h.extend_from_slice(&2u32.to_be_bytes());
        h.extend_from_slice(&count.to_be_bytes());
        h
    }

    #[test]
    fn pack_watch_finds_the_declared_count() {
        // v2: sections, then the pack on band 1, split across pkt-lines and feeds.
        let mut stream = pkt(b"shallow-info\n");
        stream.extend(b"0001");
        stream.extend(pkt(b"packfile\n"));
        stream.extend(pkt(b"\x02counting objects\n"));
        let header = pack_header(77);
        stream.extend(pkt(&[&[1u8][..], &header[..6]].concat()));
        stream.extend(pkt(&[&[1u8][..], &header[6..], b"more"].concat()));
        for split in 0..stream.len() {
            let mut watch = PackWatch::default();
            let first = watch.feed(&stream[..split]);
            let second = watch.feed(&stream[split..]);
            assert_eq!(first.or(second), Some(77), "split at {split}");
        }
        // v0 without side-band: the raw pack follows the NAK line.
        let mut raw = pkt(b"NAK\n");
        raw.extend(pack_header(5));
        assert_eq!(PackWatch::default().feed(&raw), Some(5));
        // Not a pkt-line stream: give up quietly.
        assert_eq!(PackWatch::default().feed(b"zzzzPACK"), None);
    }

    #[test]
    fn too_many_declared_objects_fail_before_the_header_is_handed_on() {
        let b = Budget::new("max_ref_advertisement_bytes", 1 << 20);
        b.pack_phase(1 << 20, 10);
        let mut s = pkt(b"packfile\n");
        s.extend(pkt(&[&[1u8][..], &pack_header(11)].concat()));
        let mut r = Counted::new(std::io::BufReader::new(std::io::Cursor::new(s)), b.clone());
        let e = r.fill_buf().unwrap_err();
        assert!(e.to_string().contains("max_pack_objects"), "{e}");
        assert_eq!(b.exceeded().unwrap().value, 11);
    }

    #[test]
    fn resolution_checks_every_address() {
        assert!(resolve_checked("127.0.0.1", 1, false).is_err());
        assert!(resolve_checked("[::1]", 1, false).is_err());
        assert!(resolve_checked("127.0.0.1", 1, true).is_ok());
        let e = resolve_checked("localhost", 1, false).unwrap_err();
        assert!(e.contains("private or loopback"), "{e}");
        assert!(resolve_checked("93.184.215.14", 1, false).is_ok());
    }
}
