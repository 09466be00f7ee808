//! shared/SECURITY.md §4.4: repository and fetch (R1–R17, those buildable on loopback).
//! Servers are real and local (O7): `git daemon`, and tiny hand-written HTTP responders that
//! misbehave on purpose (redirects, 401, slowloris, broken pkt-lines, endless advertisements).
//! Hostile trees are hand-made with `git hash-object -t tree --literally`.
#![allow(
    clippy::unreadable_literal,
    clippy::cast_precision_loss,
    clippy::many_single_char_names,
    clippy::format_push_string
)]

mod security_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use provenance_core::fetch::{self, Want};
use provenance_core::{CrateSource, Discard, ErrorKind, RepoSource, Request, Verdict};
use security_support::net::{self, HttpServer, Response};
use security_support::{
    Sandbox, assert_bounded, child_report, crate_with, has_finding, is_child, run_child, std_files,
    tar_gz,
};

/// Fetch options for the loopback servers. The wall-clock limits stay at the library's
/// defaults (30 s per request, 300 s per fetch): work such as resolving a 10,000-deep delta
/// chain takes seconds on an idle machine and must not race a timer on a busy one. The cases
/// about a timeout set [`SHORT_HTTP_TIMEOUT`] themselves.
fn fopts(sb: &Sandbox) -> fetch::Options {
    let mut o = fetch::Options::default();
    o.cache_dir = Some(sb.cache.clone());
    o.allow_insecure_transport = true;
    o.retries = 1;
    o
}

/// The per-request timeout of the cases that are about it (slowloris, a server that never
/// answers). Their servers stall for [`STALL`], 40 times longer, so such a case can only end
/// early through our timeout, and its error must say so.
const SHORT_HTTP_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the stalling servers stall.
const STALL: Duration = Duration::from_secs(120);

/// [`fopts`] with [`SHORT_HTTP_TIMEOUT`].
fn fopts_short_timeout(sb: &Sandbox) -> fetch::Options {
    let mut o = fopts(sb);
    o.http_timeout = SHORT_HTTP_TIMEOUT;
    o
}

/// A timeout error of ours: transient, and its message says it timed out.
fn assert_timed_out(e: &fetch::Error) {
    assert!(
        matches!(
            e,
            fetch::Error::Network {
                transient: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("timed out"), "{e}");
}

fn repository(
    url: &str,
    from_crate: bool,
    o: &fetch::Options,
) -> Result<fetch::Fetched, fetch::Error> {
    security_support::no_panic(|| {
        fetch::repository(
            url,
            from_crate,
            &Want::commit("0123456789abcdef0123456789abcdef01234567"),
            o,
            &mut Discard,
            &AtomicBool::new(false),
        )
    })
}

/// Verify the fixture crate against `url` (allowing loopback http).
fn verify_url(
    sb: &Sandbox,
    url: &str,
    commit: &str,
) -> Result<provenance_core::Report, provenance_core::Error> {
    let mut o = sb.options();
    o.allow_insecure_transport = true;
    o.assisted = false;
    let req = Request::new(CrateSource::Bytes(crate_with(commit, &[])))
        .with_repo(RepoSource::Url(url.to_owned()))
        .with_options(o);
    sb.verify(&req)
}

/// A server recording every request's headers.
fn recording(
    handler: impl Fn(&net::Request) -> Response + Send + Sync + 'static,
) -> (HttpServer, Arc<Mutex<Vec<net::Request>>>) {
    let seen: Arc<Mutex<Vec<net::Request>>> = Arc::default();
    let s2 = seen.clone();
    let server = HttpServer::start(move |req| {
        s2.lock().unwrap().push(req.clone());
        handler(req)
    });
    (server, seen)
}

fn no_credentials(seen: &Mutex<Vec<net::Request>>) {
    for r in seen.lock().unwrap().iter() {
        assert!(
            !r.headers.contains_key("authorization")
                && !r.headers.contains_key("proxy-authorization"),
            "credentials sent: {r:?}"
        );
    }
}

#[test]
fn r01_schemes_refused() {
    let sb = Sandbox::new();
    let mut o = fopts(&sb);
    o.allow_insecure_transport = false;
    for url in [
        "http://example.org/a/b",
        "git://example.org/a/b",
        "ssh://git@example.org/a/b",
        "git+ssh://example.org/a/b",
        "git@example.org:a/b.git",
        "file:///srv/a.git",
        "/srv/a.git",
        "ext::sh -c touch% /tmp/pwned",
        "fd::17",
        "ftp://example.org/a/b",
        "rsync://example.org/a/b",
        "persistent-https://example.org/a",
    ] {
        // `http://` is upgraded to https by policy (a finding), never fetched in clear.
        let u = fetch::url::normalize(url, false);
        if url.starts_with("http://") {
            let u = u.unwrap();
            assert_eq!(u.transport, fetch::Transport::Https);
            continue;
        }
        let e = u.expect_err(url);
        assert_eq!(e.kind(), ErrorKind::UrlPolicy, "{url}");
        let e = repository(url, false, &o).expect_err(url);
        assert!(matches!(e, fetch::Error::UrlPolicy { .. }), "{url}: {e:?}");
        let f = repository(url, true, &o).unwrap();
        assert!(
            f.not_found.is_some() && f.info.strategy == "refused",
            "{url}"
        );
    }
    // gix was never asked: no repository was created in the cache.
    let git_dir = sb.cache.join("git");
    assert!(!git_dir.exists() || std::fs::read_dir(&git_dir).unwrap().next().is_none());
    assert!(!Path::new("/tmp/pwned").exists());
}

#[test]
fn r02_private_addresses_refused() {
    for url in [
        "https://127.0.0.1/a/b",
        "https://127.1.2.3/a/b",
        "https://[::1]/a/b",
        "https://10.0.0.1/a/b",
        "https://172.16.0.1/a/b",
        "https://192.168.1.1/a/b",
        "https://169.254.169.254/a/b",
        "https://[fc00::1]/a/b",
        "https://[fe80::1]/a/b",
        "https://[::ffff:127.0.0.1]/a/b",
        "https://0.0.0.0/a/b",
        "https://localhost/a/b",
        "https://foo.localhost./a/b",
        "https://2130706433/a/b",
        "https://0x7f.1/a/b",
    ] {
        let e = fetch::url::normalize(url, false).expect_err(url);
        assert_eq!(e.kind(), ErrorKind::UrlPolicy, "{url}");
    }
}

/// Host names that `/etc/hosts` maps to a loopback address (other than `localhost`, which is
/// refused by name already).
fn loopback_names() -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names = Vec::new();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let Some(Ok(ip)) = words.next().map(str::parse::<std::net::IpAddr>) else {
            continue;
        };
        if !ip.is_loopback() || !ip.is_ipv4() {
            continue;
        }
        for w in words {
            let lower = w.to_ascii_lowercase();
            if lower != "localhost" && !lower.ends_with(".localhost") && !names.contains(&lower) {
                names.push(lower);
            }
        }
    }
    names
}

/// A host name that resolves to a loopback address (through the system resolver, here
/// `/etc/hosts`) is refused after resolution, before any connection: the HTTP preflight, gix's
/// HTTP transport and `git://` all resolve through the same checked resolver.
#[test]
fn r02_name_resolving_to_loopback() {
    let names = loopback_names();
    assert!(
        !names.is_empty(),
        "this test needs a name other than localhost mapped to 127.0.0.0/8 in /etc/hosts"
    );
    let sb = Sandbox::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let mut o = fopts(&sb);
    o.allow_insecure_transport = false;
    for name in &names {
        let url = format!("https://{name}:{port}/a/b");
        let e = repository(&url, false, &o).expect_err(&url);
        assert_eq!(e.kind(), ErrorKind::UrlPolicy, "{url}: {e}");
        assert!(e.to_string().contains("resolves to"), "{e}");
        let f = repository(&url, true, &o).unwrap();
        assert_eq!(f.info.strategy, "refused", "{url}");
        assert!(f.not_found.unwrap().contains("loopback"));
    }
    assert!(
        listener.accept().is_err(),
        "connected to a loopback address"
    );
    // With `allow_insecure_transport` (tests, explicit opt-in) the same name is contacted: the
    // listener accepts the connection and closes it at once (so the call ends with a network
    // error instead of waiting for a timeout).
    listener.set_nonblocking(false).unwrap();
    let (reached, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            let _ = reached.send(());
            drop(s);
        }
    });
    o.allow_insecure_transport = true;
    let r = repository(&format!("http://{}:{port}/a/b", names[0]), false, &o);
    assert!(
        rx.recv_timeout(Duration::from_secs(60)).is_ok(),
        "the opt-in does not reach the server: {r:?}"
    );
}

#[test]
fn r03_redirects_refused() {
    let sb = Sandbox::new();
    let c = "0123456789abcdef0123456789abcdef01234567";
    for target in [
        "http://127.0.0.2:1/evil.git/info/refs?service=git-upload-pack",
        "https://example.org/evil.git/info/refs?service=git-upload-pack",
        "http://169.254.169.254/latest/meta-data/",
        "/other.git/info/refs?service=git-upload-pack",
    ] {
        for status in [301u16, 302, 307, 308] {
            let t = target.to_owned();
            let (server, seen) = recording(move |_| Response::Full {
                status,
                headers: vec![("Location".into(), t.clone())],
                body: vec![],
            });
            let r = verify_url(&sb, &server.url("/foo.git"), c).unwrap();
            assert_eq!(r.verdict, Verdict::RepositoryNotFound, "{status} {target}");
            assert!(has_finding(&r, "repository_not_found"));
            no_credentials(&seen);
            // Only our server was asked, once (the redirect was not followed to it either).
            let n = seen.lock().unwrap().len();
            if target.starts_with('/') {
                // Same host and scheme: followed a bounded number of times, still refused.
                assert!(n <= 12, "{status} {target}: {n} requests");
            } else {
                assert_eq!(n, 1, "{status} {target}");
            }
        }
    }
    for url in [
        "https://good@evil/x",
        "https://evil\\@good/x",
        "https://good#@evil/",
        "https://good:@evil/x",
    ] {
        let e = fetch::url::normalize(url, false).expect_err(url);
        assert_eq!(e.kind(), ErrorKind::UrlPolicy, "{url}");
    }
}

#[test]
fn r04_auth_required() {
    let sb = Sandbox::new();
    let c = "0123456789abcdef0123456789abcdef01234567";
    for status in [401u16, 407, 403] {
        let (server, seen) = recording(move |_| Response::Full {
            status,
            headers: vec![
                ("WWW-Authenticate".into(), "Basic realm=\"x\"".into()),
                ("Proxy-Authenticate".into(), "Basic realm=\"x\"".into()),
            ],
            body: b"auth".to_vec(),
        });
        let start = Instant::now();
        let r = verify_url(&sb, &server.url("/foo.git"), c).unwrap();
        assert_eq!(r.verdict, Verdict::RepositoryNotFound, "{status}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no prompt, no wait"
        );
        no_credentials(&seen);
        assert_eq!(seen.lock().unwrap().len(), 1, "no retry with credentials");
    }
}

/// A server that accepts the request and answers nothing for [`STALL`]: our per-request
/// timeout ends the wait, a transient "timed out" error (not whatever the late answer would
/// have caused).
#[test]
fn r05_slowloris() {
    let sb = Sandbox::new();
    let server = HttpServer::start(|_| Response::Slow {
        delay: STALL,
        inner: Box::new(Response::status(200)),
    });
    let start = Instant::now();
    let e = repository(&server.url("/foo.git"), false, &fopts_short_timeout(&sb)).unwrap_err();
    eprintln!("r05 slowloris: {e} after {:?}", start.elapsed());
    assert_timed_out(&e);
    assert!(start.elapsed() < STALL, "{:?}", start.elapsed());
}

/// A raw server: for every connection, read the request head, then call `answer`.
fn raw_server(answer: impl Fn(&str, &mut std::net::TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if s.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                answer(&head, &mut s);
            });
        }
    });
    port
}

fn pkt(line: &str) -> String {
    format!("{:04x}{line}", line.len() + 4)
}

#[test]
fn r05_endless_ref_advertisement() {
    if is_child() {
        // Default limits: 100,000 refs, so at most 25.6 MB of advertisement.
        let port: u16 = std::env::var("PROV_R05_PORT").unwrap().parse().unwrap();
        let sb = Sandbox::new();
        let o = fopts(&sb);
        let start = Instant::now();
        let r = repository(&format!("http://127.0.0.1:{port}/foo.git"), false, &o);
        match &r {
            Err(fetch::Error::LimitExceeded(l)) => {
                assert_eq!(l.limit, "max_ref_advertisement_bytes", "{l}");
                assert_eq!(l.max, 100_000 * 256);
            }
            other => panic!("expected max_ref_advertisement_bytes, got {other:?}"),
        }
        child_report(&format!("{} after {:?}", r.unwrap_err(), start.elapsed()));
        return;
    }
    // Answers every request with a v0 advertisement that never ends.
    let port = raw_server(|_, s| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\nConnection: close\r\n\r\n",
        );
        let _ = s.write_all(pkt("# service=git-upload-pack\n").as_bytes());
        let _ = s.write_all(b"0000");
        let id = "1".repeat(40);
        let _ = s.write_all(pkt(&format!("{id} HEAD\0multi_ack side-band-64k\n")).as_bytes());
        for i in 0u64.. {
            let line = pkt(&format!("{id} refs/heads/b{i}\n"));
            if s.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let out = run_child(
        "r05_endless_ref_advertisement",
        2 << 30,
        Duration::from_secs(120),
        &[("PROV_R05_PORT", std::ffi::OsStr::new(&port.to_string()))],
        None,
    );
    assert_bounded("r05_endless_refs", &out, 256);
}

/// The same endless advertisement over `git://` (our own TCP connection, same budget), and a
/// `git://` server that sends one byte per [`STALL`] (the read timeout ends it).
#[test]
fn r05_endless_ref_advertisement_git() {
    if is_child() {
        let port: u16 = std::env::var("PROV_R05_PORT").unwrap().parse().unwrap();
        let sb = Sandbox::new();
        let o = fopts(&sb);
        let r = repository(&format!("git://127.0.0.1:{port}/foo.git"), false, &o);
        match &r {
            Err(fetch::Error::LimitExceeded(l)) => {
                assert_eq!(l.limit, "max_ref_advertisement_bytes", "{l}");
            }
            other => panic!("expected max_ref_advertisement_bytes, got {other:?}"),
        }
        child_report(&r.unwrap_err().to_string());
        return;
    }
    let serve = |slow: bool| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                std::thread::spawn(move || {
                    let mut len = [0u8; 4];
                    if s.read_exact(&mut len).is_err() {
                        return;
                    }
                    let n = usize::from_str_radix(std::str::from_utf8(&len).unwrap(), 16).unwrap();
                    let mut req = vec![0u8; n - 4];
                    let _ = s.read_exact(&mut req);
                    let id = "1".repeat(40);
                    let first = pkt(&format!("{id} HEAD\0multi_ack side-band-64k\n"));
                    if slow {
                        for b in first.bytes() {
                            std::thread::sleep(STALL);
                            if s.write_all(&[b]).is_err() {
                                return;
                            }
                        }
                    }
                    let _ = s.write_all(first.as_bytes());
                    for i in 0u64.. {
                        let line = pkt(&format!("{id} refs/heads/b{i}\n"));
                        if s.write_all(line.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        port
    };
    let out = run_child(
        "r05_endless_ref_advertisement_git",
        2 << 30,
        Duration::from_secs(120),
        &[(
            "PROV_R05_PORT",
            std::ffi::OsStr::new(&serve(false).to_string()),
        )],
        None,
    );
    assert_bounded("r05_endless_refs_git", &out, 256);
    let sb = Sandbox::new();
    let start = Instant::now();
    let e = repository(
        &format!("git://127.0.0.1:{}/foo.git", serve(true)),
        false,
        &fopts_short_timeout(&sb),
    )
    .unwrap_err();
    eprintln!("r05 slow git://: {e} after {:?}", start.elapsed());
    assert_timed_out(&e);
    assert!(start.elapsed() < STALL, "{:?}", start.elapsed());
}

/// B5 at the library level: a server that accepts and then says nothing (HTTP preflight,
/// `git://` handshake) or stalls in the middle of the pack, while our timeouts are [`STALL`]
/// away; an interrupt raised as soon as the server sees the client waiting returns
/// `Interrupted` promptly (the stalled read is left behind to time out on its own thread).
/// Promptly means within [`prompt_budget`] of a complete fetch from a well-behaved server,
/// measured first in the same test.
#[test]
fn r05_interrupt_during_a_stalled_fetch() {
    // Each server reports on `ready` once the client is waiting on it.
    let silent = |ready: mpsc::Sender<()>| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().flatten() {
                held.push(s);
                let _ = ready.send(());
            }
        });
        port
    };
    let (tip, entries) = commit_entries(b"[package]\n");
    let pack = pack_of(&entries);
    let fetch_from = |url: &str, stop: &AtomicBool| {
        let sb = Sandbox::new();
        let mut o = fopts(&sb);
        o.http_timeout = STALL;
        o.fetch_timeout = STALL * 2;
        security_support::no_panic(|| {
            fetch::repository(
                url,
                false,
                &Want::commit(tip.clone()),
                &o,
                &mut Discard,
                stop,
            )
        })
    };

    let full = pack.clone();
    let complete = v2_server(&tip, move |s| {
        let _ = s.write_all(&band1(&full));
        let _ = s.write_all(b"0000");
    });
    let start = Instant::now();
    let r = fetch_from(
        &format!("http://127.0.0.1:{complete}/foo.git"),
        &AtomicBool::new(false),
    );
    let baseline = start.elapsed();
    assert!(r.as_ref().is_ok_and(|f| f.not_found.is_none()), "{r:?}");
    let budget = prompt_budget(baseline);

    let (pack_ready, pack_rx) = mpsc::channel();
    let pack_ready = Mutex::new(pack_ready);
    let stalled_pack = v2_server(&tip, move |s| {
        let _ = s.write_all(&band1(&pack[..pack.len() / 2]));
        let _ = s.flush();
        let _ = pack_ready.lock().unwrap().send(());
        std::thread::sleep(STALL);
    });
    let (http_ready, http_rx) = mpsc::channel();
    let (git_ready, git_rx) = mpsc::channel();
    for (url, ready) in [
        (
            format!("http://127.0.0.1:{}/foo.git", silent(http_ready)),
            http_rx,
        ),
        (
            format!("git://127.0.0.1:{}/foo.git", silent(git_ready)),
            git_rx,
        ),
        (format!("http://127.0.0.1:{stalled_pack}/foo.git"), pack_rx),
    ] {
        let (stop, raised) = interrupt_when_ready(ready);
        let r = fetch_from(&url, &stop);
        let returned = Instant::now();
        assert!(matches!(r, Err(fetch::Error::Interrupted)), "{url}: {r:?}");
        let took = returned.duration_since(raised.join().unwrap());
        eprintln!(
            "r05 {url}: interrupted after {took:?} (budget {budget:?}, baseline {baseline:?})"
        );
        assert!(took < budget, "{url}: {took:?} (budget {budget:?})");
    }
}

/// The registry side of B5: an index server that stalls for [`STALL`] before answering, with
/// the same timeout; an interrupt raised once the request arrived returns `Interrupted` within
/// [`prompt_budget`] of a request the same server answers at once.
#[test]
fn r05_interrupt_during_a_stalled_registry() {
    let (ready, rx) = mpsc::channel();
    let ready = Mutex::new(ready);
    let stall = Arc::new(AtomicBool::new(false));
    let stalling = stall.clone();
    let server = HttpServer::start(move |_| {
        if !stalling.load(Ordering::Relaxed) {
            return Response::status(404);
        }
        let _ = ready.lock().unwrap().send(());
        Response::Slow {
            delay: STALL,
            inner: Box::new(Response::status(200)),
        }
    });
    let options = |sb: &Sandbox| {
        let mut o = fopts(sb);
        o.http_timeout = STALL;
        o.index_url = Some(server.url("/index/"));
        o
    };
    let start = Instant::now();
    let r = security_support::no_panic(|| {
        let o = options(&Sandbox::new());
        fetch::crate_archive("foo", "1.0.0", &o, &mut Discard, &AtomicBool::new(false))
    });
    let baseline = start.elapsed();
    assert!(r.is_err(), "a 404 registry has no crate: {r:?}");
    let budget = prompt_budget(baseline);

    stall.store(true, Ordering::Relaxed);
    let sb = Sandbox::new();
    let o = options(&sb);
    let (stop, raised) = interrupt_when_ready(rx);
    let r = security_support::no_panic(|| {
        fetch::crate_archive("foo", "1.0.0", &o, &mut Discard, &stop)
    });
    let returned = Instant::now();
    assert!(matches!(r, Err(fetch::Error::Interrupted)), "{r:?}");
    let took = returned.duration_since(raised.join().unwrap());
    eprintln!(
        "r05 registry: interrupted after {took:?} (budget {budget:?}, baseline {baseline:?})"
    );
    assert!(took < budget, "{took:?} (budget {budget:?})");
}

/// How long an interrupt may take to be honoured, given `baseline`: how long a complete
/// request of the same kind took in the same test, so a busy machine gets a larger budget. The
/// library stops within its poll interval plus a 500 ms grace; ten times the baseline, at
/// least 2 s, keeps a wide margin, and at most half of [`STALL`] stays well below what an
/// ignored interrupt would wait for.
fn prompt_budget(baseline: Duration) -> Duration {
    (baseline * 10).clamp(Duration::from_secs(2), STALL / 2)
}

/// A protocol-v2 smart-HTTP server advertising `refs/heads/main` at `tip` that answers
/// `fetch` by calling `pack` with the connection after the `packfile` section header.
fn v2_server(tip: &str, pack: impl Fn(&mut std::net::TcpStream) + Send + Sync + 'static) -> u16 {
    v2_server_with_refs(tip, &[], pack)
}

/// [`v2_server`] with `extra` ls-refs lines (`<id> <name>[ attributes]`) after `main`.
fn v2_server_with_refs(
    tip: &str,
    extra: &[String],
    pack: impl Fn(&mut std::net::TcpStream) + Send + Sync + 'static,
) -> u16 {
    let tip = tip.to_owned();
    let extra: String = extra.iter().map(|l| pkt(&format!("{l}\n"))).collect();
    raw_server(move |head, s| {
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if s.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body);
        let (kind, payload) = if head.starts_with("GET") {
            let mut p = pkt("# service=git-upload-pack\n") + "0000";
            for l in [
                "version 2\n",
                "agent=responder\n",
                "ls-refs\n",
                "fetch=shallow\n",
                "object-format=sha1\n",
            ] {
                p.push_str(&pkt(l));
            }
            p.push_str("0000");
            ("advertisement", p)
        } else if body.contains("command=ls-refs") {
            (
                "result",
                pkt(&format!("{tip} HEAD symref-target:refs/heads/main\n"))
                    + &pkt(&format!("{tip} refs/heads/main\n"))
                    + &extra
                    + "0000",
            )
        } else {
            (
                "result",
                pkt("shallow-info\n")
                    + &pkt(&format!("shallow {tip}\n"))
                    + "0001"
                    + &pkt("packfile\n"),
            )
        };
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-{kind}\r\nConnection: close\r\n\r\n{payload}"
        );
        if head.starts_with("POST") && !body.contains("command=ls-refs") {
            pack(s);
        }
    })
}

/// Side-band channel 1 pkt-lines carrying `data`.
fn band1(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(65515) {
        out.extend_from_slice(format!("{:04x}", chunk.len() + 5).as_bytes());
        out.push(1);
        out.extend_from_slice(chunk);
    }
    out
}

/// A pack entry header: type `ty`, declared (inflated) `size`.
fn entry_header(ty: u8, mut size: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = (ty << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
    out
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// One pack object entry: a blob holding `content`.
fn pack_blob(content: &[u8]) -> Vec<u8> {
    let mut out = entry_header(3, content.len() as u64);
    out.extend(zlib(content));
    out
}

/// Stream an endless pack declaring `count` objects: blobs of `size` pseudo-random (stored,
/// uncompressible) bytes, cycling through 16 of them, until the client hangs up.
fn endless_pack(s: &mut std::net::TcpStream, count: u32, size: usize) {
    let mut head = b"PACK".to_vec();
    head.extend_from_slice(&2u32.to_be_bytes());
    head.extend_from_slice(&count.to_be_bytes());
    if s.write_all(&band1(&head)).is_err() {
        return;
    }
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let objects: Vec<Vec<u8>> = (0..16)
        .map(|_| {
            let content: Vec<u8> = (0..size)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                })
                .collect();
            pack_blob(&content)
        })
        .collect();
    let batch = band1(&objects.concat());
    while s.write_all(&batch).is_ok() {}
}

/// The child side of the endless-pack cases: fetch with `max_fetch_bytes` from the environment
/// (default limits otherwise) and expect `LimitExceeded` naming `PROV_R05_LIMIT`.
fn endless_pack_child(tip: &str) {
    let port: u16 = std::env::var("PROV_R05_PORT").unwrap().parse().unwrap();
    let limit = std::env::var("PROV_R05_LIMIT").unwrap();
    let sb = Sandbox::new();
    let mut o = fopts(&sb);
    o.fetch_timeout = Duration::from_secs(120);
    if let Some(b) = std::env::var("PROV_R05_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        o.max_fetch_bytes = b;
    }
    let start = Instant::now();
    let r = security_support::no_panic(|| {
        fetch::repository(
            &format!("http://127.0.0.1:{port}/foo.git"),
            false,
            &Want::commit(tip),
            &o,
            &mut Discard,
            &AtomicBool::new(false),
        )
    });
    match &r {
        Err(fetch::Error::LimitExceeded(l)) => assert_eq!(l.limit, limit, "{l}"),
        other => panic!("expected `{limit}`, got {other:?}"),
    }
    child_report(&format!("{} after {:?}", r.unwrap_err(), start.elapsed()));
}

fn run_endless_pack(test: &str, port: u16, limit: &str, max_bytes: Option<u64>) {
    let port = port.to_string();
    let max_bytes = max_bytes.map(|b| b.to_string()).unwrap_or_default();
    let mut env = vec![
        ("PROV_R05_PORT", std::ffi::OsStr::new(&port)),
        ("PROV_R05_LIMIT", std::ffi::OsStr::new(limit)),
    ];
    if !max_bytes.is_empty() {
        env.push(("PROV_R05_MAX_BYTES", std::ffi::OsStr::new(&max_bytes)));
    }
    let out = run_child(test, 2 << 30, Duration::from_secs(200), &env, None);
    assert_bounded(test, &out, 256);
}

const R05_TIP: &str = "0123456789abcdef0123456789abcdef01234567";

/// Acceptance (issue 8): an endless pack whose header declares 2^32 - 1 objects is refused at
/// the header (`max_pack_objects`, default limits), before gix sizes anything by it.
#[test]
fn r05_endless_pack_declared_count() {
    if is_child() {
        return endless_pack_child(R05_TIP);
    }
    let port = v2_server(R05_TIP, |s| endless_pack(s, u32::MAX, 64));
    run_endless_pack(
        "r05_endless_pack_declared_count",
        port,
        "max_pack_objects",
        None,
    );
}

/// Acceptance (issue 8): an endless pack with a plausible count (1,000,000) whose objects never
/// end stops at `max_fetch_bytes` (set to 64 MiB here; 2 GiB by default), peak RSS < 256 MiB.
#[test]
fn r05_endless_pack_bytes() {
    if is_child() {
        return endless_pack_child(R05_TIP);
    }
    let port = v2_server(R05_TIP, |s| endless_pack(s, 1_000_000, 4096));
    run_endless_pack(
        "r05_endless_pack_bytes",
        port,
        "max_fetch_bytes",
        Some(64 << 20),
    );
}

#[test]
fn r06_protocol_faults() {
    let sb = Sandbox::new();
    let c = "0123456789abcdef0123456789abcdef01234567";
    let bodies: Vec<Vec<u8>> = vec![
        b"0004".to_vec(),
        b"fff0".to_vec(),
        b"0000".to_vec(),
        b"zzzz garbage".to_vec(),
        format!("{}0000", pkt("# service=git-upload-pack\n")).into_bytes(),
        format!(
            "{}0000{}",
            pkt("# service=git-upload-pack\n"),
            pkt(&format!("version 2\nagent={}\n", "x".repeat(1 << 20)))
        )
        .into_bytes(),
        format!(
            "{}0000{}0000",
            pkt("# service=git-upload-pack\n"),
            pkt("version 2\n")
        )
        .into_bytes(),
        b"0001".to_vec(),
        b"\x00\x01\x02\x03".to_vec(),
    ];
    for body in bodies {
        let b = body.clone();
        let server = HttpServer::start(move |_| Response::Full {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "application/x-git-upload-pack-advertisement".into(),
            )],
            body: b.clone(),
        });
        match verify_url(&sb, &server.url("/foo.git"), c) {
            Ok(r) => assert_eq!(
                r.verdict,
                Verdict::RepositoryNotFound,
                "{:?}",
                String::from_utf8_lossy(&body[..body.len().min(40)])
            ),
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Network | ErrorKind::Git),
                "{e:?}"
            ),
        }
    }
}

/// `git hash-object -t tree --literally -w --stdin` for raw `(mode, name, id)` entries.
fn literal_tree(repo: &Path, entries: &[(&str, &[u8], &str)]) -> String {
    let mut data = Vec::new();
    for (mode, name, id) in entries {
        data.extend_from_slice(mode.as_bytes());
        data.push(b' ');
        data.extend_from_slice(name);
        data.push(0);
        data.extend(hex(id));
    }
    let mut child = std::process::Command::new("git")
        .args(["hash-object", "-t", "tree", "--literally", "-w", "--stdin"])
        .current_dir(repo)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn hex(id: &str) -> Vec<u8> {
    (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).unwrap())
        .collect()
}

fn blob(repo: &Path, data: &[u8]) -> String {
    let mut child = std::process::Command::new("git")
        .args(["hash-object", "-w", "--stdin"])
        .current_dir(repo)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The fixture commit's `Cargo.toml` blob and `src` tree ids.
fn fixture_ids(sb: &Sandbox, c: &str) -> (String, String) {
    let bare = sb.repo_path();
    (
        net::git(&bare, &["rev-parse", &format!("{c}:Cargo.toml")]),
        net::git(&bare, &["rev-parse", &format!("{c}:src")]),
    )
}

fn commit_tree(sb: &Sandbox, tree: &str) -> String {
    net::git(&sb.repo_path(), &["commit-tree", tree, "-m", "hostile"])
}

/// A commit whose root is the fixture commit `c`'s `Cargo.toml` and `src/` plus `entry`
/// (mode, name, id).
fn commit_beside_package(sb: &Sandbox, c: &str, entry: (&str, &[u8], &str)) -> String {
    let (manifest_id, src_id) = fixture_ids(sb, c);
    let root = literal_tree(
        &sb.repo_path(),
        &[
            ("100644", b"Cargo.toml", &manifest_id),
            entry,
            ("40000", b"src", &src_id),
        ],
    );
    commit_tree(sb, &root)
}

/// Re-run `test` in a child (2 GiB address space) that verifies against `commit` of the
/// sandbox's repository (see [`fixture_child_verify`]), with `env` added; assert peak RSS < 256 MiB.
fn run_fixture_child(
    test: &str,
    sb: &Sandbox,
    commit: &str,
    env: &[(&str, &std::ffi::OsStr)],
    timeout: Duration,
) {
    let mut all = vec![
        ("PROV_FIXTURE_DIR", sb.root.as_os_str()),
        ("PROV_FIXTURE_COMMIT", std::ffi::OsStr::new(commit)),
    ];
    all.extend_from_slice(env);
    let out = run_child(test, 2 << 30, timeout, &all, None);
    assert_bounded(test, &out, 256);
}

/// In a child of [`run_fixture_child`]: the commit it verifies against.
fn fixture_commit() -> String {
    std::env::var("PROV_FIXTURE_COMMIT").unwrap()
}

/// In a child of [`run_fixture_child`]: verify the fixture crate for [`fixture_commit`] (plus
/// `extra` files) against the sandbox's repository (no assisted search, no older rules).
fn fixture_child_verify(
    extra: &[(String, Vec<u8>)],
) -> Result<provenance_core::Report, provenance_core::Error> {
    let dir = std::path::PathBuf::from(std::env::var_os("PROV_FIXTURE_DIR").unwrap());
    let mut files = std_files(&fixture_commit());
    files.extend_from_slice(extra);
    let mut o = provenance_core::Options::default();
    o.assisted = false;
    o.older_rules = false;
    let req = Request::new(CrateSource::Bytes(tar_gz(&security_support::entries(
        &files,
    ))))
    .with_repo(RepoSource::Path(dir.join("srv/foo.git")))
    .with_options(o);
    security_support::no_panic(|| provenance_core::verify(&req))
}

/// A stop flag that another thread raises as soon as `ready` reports that the client is
/// waiting on a stalled server; joining the thread gives the instant it was raised.
fn interrupt_when_ready(
    ready: mpsc::Receiver<()>,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<Instant>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let raised = std::thread::spawn(move || {
        ready
            .recv_timeout(Duration::from_secs(600))
            .expect("the server never saw the client");
        let at = Instant::now();
        s2.store(true, Ordering::Relaxed);
        at
    });
    (stop, raised)
}

fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// The git object id of `kind` `data`.
fn object_id(kind: &str, data: &[u8]) -> gix::ObjectId {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    h.update(format!("{kind} {}\0", data.len()).as_bytes());
    h.update(data);
    h.try_finalize().unwrap()
}

/// A complete pack (header, entries, SHA-1 trailer).
fn pack_of(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut p = b"PACK".to_vec();
    p.extend_from_slice(&2u32.to_be_bytes());
    p.extend_from_slice(&u32::try_from(entries.len()).unwrap().to_be_bytes());
    for e in entries {
        p.extend_from_slice(e);
    }
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    h.update(&p);
    p.extend_from_slice(h.try_finalize().unwrap().as_bytes());
    p
}

/// An OFS_DELTA entry `distance` bytes after its base, copying `base_len` bytes and appending
/// `append`; `claimed_base` is what the delta says the base's size is.
fn ofs_delta(distance: usize, base_len: usize, claimed_base: usize, append: &[u8]) -> Vec<u8> {
    let mut delta = varint(claimed_base);
    delta.extend(varint(base_len + append.len()));
    delta.extend([
        0x80 | 0x10 | 0x20,
        (base_len & 0xff) as u8,
        (base_len >> 8) as u8,
    ]);
    delta.push(u8::try_from(append.len()).unwrap());
    delta.extend_from_slice(append);
    let mut out = entry_header(6, delta.len() as u64);
    let mut off = distance;
    let mut enc = vec![(off & 0x7f) as u8];
    off >>= 7;
    while off > 0 {
        off -= 1;
        enc.insert(0, 0x80 | (off & 0x7f) as u8);
        off >>= 7;
    }
    out.extend(enc);
    out.extend(zlib(&delta));
    out
}

/// A commit (and its tree) holding `Cargo.toml` = `blob`: (tip, entries for the pack).
fn commit_entries(blob: &[u8]) -> (String, Vec<Vec<u8>>) {
    let blob_id = object_id("blob", blob);
    let mut tree = b"100644 Cargo.toml\0".to_vec();
    tree.extend_from_slice(blob_id.as_bytes());
    let tree_id = object_id("tree", &tree);
    let commit = format!(
        "tree {tree_id}\nauthor A <a@example.org> 1700000000 +0000\ncommitter A <a@example.org> 1700000000 +0000\n\nr07\n"
    );
    let tip = object_id("commit", commit.as_bytes()).to_string();
    let mut c = entry_header(1, commit.len() as u64);
    c.extend(zlib(commit.as_bytes()));
    let mut t = entry_header(2, tree.len() as u64);
    t.extend(zlib(&tree));
    (tip, vec![c, t])
}

const R07_BASE: &[u8] =
    b"[package]\nname = \"x\"\n# a base blob of some length for the delta chain...\n";

/// The R7 packs: (tip, pack bytes, whether the pack is valid).
fn r07_case(case: &str) -> (String, Vec<u8>, bool) {
    let base = R07_BASE.to_vec();
    match case {
        "huge_header" => {
            // A blob whose header claims 2^48 bytes, followed by a tiny zlib stream.
            let (tip, mut entries) = commit_entries(b"x");
            let mut e = entry_header(3, 1 << 48);
            e.extend(zlib(b"x"));
            entries.push(e);
            (tip, pack_of(&entries), false)
        }
        "deep_delta_chain" => {
            // 10,000 OFS_DELTAs, each on the previous one: valid, and must resolve.
            let mut content = base.clone();
            let mut entries = vec![pack_blob(&base)];
            for i in 0..10_000u32 {
                let add = [b'a' + u8::try_from(i % 26).unwrap()];
                let prev_len = entries.last().unwrap().len();
                entries.push(ofs_delta(prev_len, content.len(), content.len(), &add));
                content.extend_from_slice(&add);
            }
            let (tip, ct) = commit_entries(&content);
            let mut all = ct;
            all.extend(entries);
            (tip, pack_of(&all), true)
        }
        "base_size_mismatch" => {
            let (tip, mut entries) = commit_entries(b"y");
            let b = pack_blob(&base);
            let d = ofs_delta(b.len(), base.len(), 999, b"z");
            entries.push(b);
            entries.push(d);
            (tip, pack_of(&entries), false)
        }
        "bad_trailer" => {
            let (tip, entries) = commit_entries(&base);
            let mut all = entries;
            all.push(pack_blob(&base));
            let mut p = pack_of(&all);
            let n = p.len();
            p[n - 20..].fill(0);
            (tip, p, false)
        }
        "missing_ref_delta_base" => {
            // A REF_DELTA against an object that is neither in the pack nor in the repository.
            let (tip, mut entries) = commit_entries(&base);
            let mut delta = varint(5);
            delta.extend(varint(6));
            delta.extend([0x80 | 0x10, 5, 1, b'!']);
            let mut e = entry_header(7, delta.len() as u64);
            e.extend_from_slice(object_id("blob", b"hello").as_bytes());
            e.extend(zlib(&delta));
            entries.push(e);
            (tip, pack_of(&entries), false)
        }
        other => panic!("unknown case {other}"),
    }
}

const R07_CASES: [&str; 5] = [
    "huge_header",
    "deep_delta_chain",
    "base_size_mismatch",
    "bad_trailer",
    "missing_ref_delta_base",
];

/// Malicious packs from a loopback v2 server: a 2^48-byte object header, a 10,000-deep delta
/// chain, a delta whose base size is wrong, a wrong trailer checksum, a REF_DELTA without its
/// base. Each runs in a child (2 GiB address space): the broken ones end with a typed error,
/// the deep chain resolves, nothing panics or aborts, peak RSS < 256 MiB.
#[test]
fn r07_malicious_packs() {
    if is_child() {
        let case = std::env::var("PROV_R07_CASE").unwrap();
        let port: u16 = std::env::var("PROV_R07_PORT").unwrap().parse().unwrap();
        let (tip, _, valid) = r07_case(&case);
        let sb = Sandbox::new();
        let start = Instant::now();
        let r = security_support::no_panic(|| {
            fetch::repository(
                &format!("http://127.0.0.1:{port}/foo.git"),
                false,
                &Want::commit(tip.clone()),
                &fopts(&sb),
                &mut Discard,
                &AtomicBool::new(false),
            )
        });
        let outcome = match &r {
            Ok(f) => format!("fetched, not_found={:?}", f.not_found),
            Err(e) => format!("error {}: {e}", e.kind()),
        };
        if valid {
            let f = r.expect("the deep delta chain is a valid pack");
            assert!(f.not_found.is_none(), "{f:?}");
            let repo = gix::open(&f.path).unwrap();
            let commit = repo.find_commit(gix::ObjectId::from_hex(tip.as_bytes()).unwrap());
            let tree = commit.unwrap().tree().unwrap();
            let blob = tree.find_entry("Cargo.toml").unwrap().object().unwrap();
            assert_eq!(blob.data.len(), R07_BASE.len() + 10_000);
            assert!(blob.data.ends_with(
                b"uvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop"
            ));
        } else {
            let e = r.expect_err(&case);
            assert_eq!(e.kind(), ErrorKind::Git, "{case}: {e}");
            assert!(e.to_string().contains("pack"), "{case}: {e}");
        }
        child_report(&format!("{outcome} after {:?}", start.elapsed()));
        return;
    }
    for case in R07_CASES {
        let (tip, pack, _) = r07_case(case);
        let port = v2_server(&tip, move |s| {
            let _ = s.write_all(&band1(&pack));
            let _ = s.write_all(b"0000");
        });
        let out = run_child(
            "r07_malicious_packs",
            2 << 30,
            Duration::from_secs(120),
            &[
                ("PROV_R07_CASE", std::ffi::OsStr::new(case)),
                ("PROV_R07_PORT", std::ffi::OsStr::new(&port.to_string())),
            ],
            None,
        );
        assert_bounded(&format!("r07 {case}"), &out, 256);
    }
}

/// A 3 GiB blob of zeros (a 14 MB loose object) in the packaged tree: it is never inflated —
/// its size comes from the object header, the crate's file is compared by blob id only, and
/// the difference is reported without a content diff. Two crates: one without the file
/// (`missing`), one with a 1-byte file of the same name (`modified`). Peak RSS < 256 MiB.
#[test]
fn r09_three_gib_zero_blob() {
    if is_child() {
        let commit = fixture_commit();
        let mut outcomes = Vec::new();
        for with_file in [false, true] {
            let extra = if with_file {
                vec![("big.bin".to_owned(), b"0".to_vec())]
            } else {
                Vec::new()
            };
            let r = fixture_child_verify(&extra).unwrap();
            assert_eq!(r.verdict, Verdict::Mismatch, "{r:?}");
            let d = r
                .differences
                .iter()
                .find(|d| d.path == "big.bin")
                .expect("big.bin is a difference");
            let kind = security_support::diff_kind(&r, "big.bin").unwrap();
            let want = if with_file {
                provenance_core::DifferenceKind::ContentDiffers
            } else {
                provenance_core::DifferenceKind::OnlyInRepo
            };
            assert_eq!(kind, want);
            // Never inflated: no digest of the repository side, at most a size line.
            assert!(d.repo.is_none(), "{d:?}");
            if let Some(text) = &d.diff {
                assert!(
                    text.starts_with("binary files differ") && text.contains("3221225472"),
                    "{text}"
                );
            }
            outcomes.push(format!("{kind:?}"));
        }
        // The same commit fetched over `git://`: the pack carries the blob (~3 MB deflated).
        // gix would inflate it to hash it; `git_alloc_limit` (256 MiB) refuses that before
        // allocating, a typed limit error (the verdict needs the blob id, so it cannot be
        // skipped).
        if let Ok(url) = std::env::var("PROV_R09_URL") {
            let sb = Sandbox::new();
            let mut o = fopts(&sb);
            o.fetch_timeout = Duration::from_secs(600);
            let f = security_support::no_panic(|| {
                fetch::repository(
                    &url,
                    false,
                    &Want::commit(commit.clone()),
                    &o,
                    &mut Discard,
                    &AtomicBool::new(false),
                )
            });
            match &f {
                Err(fetch::Error::LimitExceeded(l)) => assert_eq!(l.limit, "git_alloc_limit"),
                other => panic!("expected `git_alloc_limit`, got {other:?}"),
            }
            outcomes.push(format!("fetch: {}", f.unwrap_err()));
        }
        child_report(&outcomes.join(", "));
        return;
    }
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "head -c 3221225472 /dev/zero | git hash-object -w --stdin",
        ])
        .current_dir(&bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    let big = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let commit = commit_beside_package(&sb, &c, ("100644", b"big.bin", &big));
    net::git(&bare, &["update-ref", "refs/heads/big", &commit]);
    let logs = tempfile::tempdir().unwrap();
    let daemon = net::GitDaemon::start(&sb.srv, logs.path());
    let url = daemon.url("foo.git");
    run_fixture_child(
        "r09_three_gib_zero_blob",
        &sb,
        &commit,
        &[("PROV_R09_URL", std::ffi::OsStr::new(&url))],
        Duration::from_secs(900),
    );
}

/// Write a loose object into `repo` (zlib + SHA-1 here, no `git` process per object).
fn write_loose(repo: &Path, kind: &str, data: &[u8]) -> gix::ObjectId {
    let id = object_id(kind, data);
    let hex = id.to_string();
    let dir = repo.join("objects").join(&hex[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    let mut raw = format!("{kind} {}\0", data.len()).into_bytes();
    raw.extend_from_slice(data);
    std::fs::write(dir.join(&hex[2..]), zlib(&raw)).unwrap();
    id
}

/// Acceptance (issue 8): a tree 100,000 levels deep (`d/d/d/…/f`) next to the package ends with
/// the typed `max_tree_depth` error (default limits), no stack overflow, peak RSS < 256 MiB.
#[test]
fn r08_deep_tree() {
    if is_child() {
        let e = fixture_child_verify(&[])
            .expect_err("a 100,000-deep tree cannot be walked within the limits");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e:?}");
        assert!(e.to_string().contains("max_tree_depth"), "{e}");
        child_report(&e.to_string());
        return;
    }
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let f = write_loose(&bare, "blob", b"deep\n");
    let mut tree = b"100644 f\0".to_vec();
    tree.extend_from_slice(f.as_bytes());
    let mut t = write_loose(&bare, "tree", &tree);
    for _ in 0..100_000 {
        let mut tree = b"40000 d\0".to_vec();
        tree.extend_from_slice(t.as_bytes());
        t = write_loose(&bare, "tree", &tree);
    }
    let commit = commit_beside_package(&sb, &c, ("40000", b"deep", &t.to_string()));
    run_fixture_child("r08_deep_tree", &sb, &commit, &[], Duration::from_secs(180));
}

/// Files from the published `sha1collisiondetection-0.3.4` crate (its test vectors: the
/// SHAttered PDFs and the SHA-mbles chosen-prefix pair), downloaded from static.crates.io,
/// checked against the index `cksum`, cached under `target/`.
fn collision_vectors() -> Option<std::collections::BTreeMap<String, Vec<u8>>> {
    if std::env::var_os("CRATE_PROVENANCE_NO_NETWORK").is_some() {
        return None;
    }
    let mut fo = fetch::Options::default();
    fo.cache_dir =
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/realworld-cache/fetch-cache"));
    let d = fetch::crate_archive(
        "sha1collisiondetection",
        "0.3.4",
        &fo,
        &mut Discard,
        &AtomicBool::new(false),
    )
    .unwrap();
    let mut out = std::collections::BTreeMap::new();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(d.bytes.as_slice()));
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        if let Some(name) = path.strip_prefix("sha1collisiondetection-0.3.4/test/") {
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.insert(name.to_owned(), data);
        }
    }
    Some(out)
}

/// SHAttered / SHA-mbles pairs. Raw, they collide, and the SHA-1 the library uses (gix's
/// collision-detecting SHA-1, RUSTSEC-2025-0021) refuses them. As git blobs the `blob N\0`
/// header shifts the colliding blocks, so the blob ids differ (`git hash-object` agrees):
/// a published crate holding one PDF of the pair where the repository holds the other is a
/// `mismatch` on that path, never a `match`; the right PDF gives `match`.
#[test]
fn r14_sha1_collision_pairs() {
    let Some(v) = collision_vectors() else {
        return;
    };
    for (a, b) in [
        ("shattered-1.pdf", "shattered-2.pdf"),
        ("sha-mbles-1.bin", "sha-mbles-2.bin"),
    ] {
        let (a, b) = (&v[a], &v[b]);
        assert_ne!(a, b);
        for data in [a, b] {
            let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
            h.update(data);
            assert!(h.try_finalize().is_err(), "raw collision not detected");
        }
        let (ida, idb) = (
            provenance_core::compare::sha1_blob_id(a).unwrap(),
            provenance_core::compare::sha1_blob_id(b).unwrap(),
        );
        assert_ne!(ida, idb);
    }
    let (pdf1, pdf2) = (&v["shattered-1.pdf"], &v["shattered-2.pdf"]);
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let id1 = blob(&bare, pdf1);
    assert_eq!(
        id1,
        provenance_core::compare::sha1_blob_id(pdf1).unwrap(),
        "git hash-object is the oracle"
    );
    let doc = literal_tree(&bare, &[("100644", b"shattered.pdf", &id1)]);
    let commit = commit_beside_package(&sb, &c, ("40000", b"doc", &doc));
    for (pdf, expect) in [(pdf1, Verdict::Match), (pdf2, Verdict::Mismatch)] {
        let mut files = std_files(&commit);
        files.push(("doc/shattered.pdf".into(), pdf.clone()));
        let mut o = sb.options();
        o.assisted = false;
        let req = Request::new(CrateSource::Bytes(tar_gz(&security_support::entries(
            &files,
        ))))
        .with_repo(RepoSource::Path(bare.clone()))
        .with_options(o);
        let r = sb.verify(&req).unwrap();
        assert_eq!(r.verdict, expect, "{r:?}");
        if expect == Verdict::Mismatch {
            assert_eq!(r.differences.len(), 1, "{r:?}");
            assert_eq!(r.differences[0].path, "doc/shattered.pdf");
        }
    }
}

#[test]
fn r08_git_bomb() {
    if is_child() {
        let r = fixture_child_verify(&[]);
        let out = match &r {
            Ok(rep) => format!("verdict {}", rep.verdict),
            Err(e) => format!("error {}: {e}", e.kind()),
        };
        match r {
            Err(e) => assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e:?}"),
            Ok(rep) => assert_ne!(rep.verdict, Verdict::Match),
        }
        child_report(&out);
        return;
    }
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    // 10 levels of 10 entries pointing at the same subtree: 10^10 paths, 10 distinct trees.
    let f = blob(&bare, b"lol\n");
    let mut t = literal_tree(&bare, &[("100644", b"f", &f)]);
    for _ in 0..10 {
        let names: Vec<Vec<u8>> = (0..10).map(|i| format!("d{i}").into_bytes()).collect();
        let entries: Vec<(&str, &[u8], &str)> = names
            .iter()
            .map(|n| ("40000", n.as_slice(), t.as_str()))
            .collect();
        t = literal_tree(&bare, &entries);
    }
    let commit = commit_beside_package(&sb, &c, ("40000", b"bomb", &t));
    run_fixture_child("r08_git_bomb", &sb, &commit, &[], Duration::from_secs(180));
}

#[test]
fn r10_hostile_tree_entries() {
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let (manifest_id, src_id) = fixture_ids(&sb, &c);
    let x = blob(&bare, b"x\n");
    // (case, name, mode, expected finding kind and fsck id; None: an ordinary extra file)
    type Case<'a> = (&'a str, Vec<u8>, &'a str, Option<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "HAS_DOTDOT",
            b"..".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTDOT")),
        ),
        (
            "HAS_DOT",
            b".".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOT")),
        ),
        (
            "HAS_DOTGIT",
            b".git".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTGIT")),
        ),
        (
            "HAS_DOTGIT upper",
            b".GIT".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTGIT")),
        ),
        (
            "HFS dotgit",
            ".g\u{200c}it".as_bytes().to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTGIT")),
        ),
        (
            "NTFS short",
            b"git~1".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTGIT")),
        ),
        (
            "NTFS trailing dot",
            b".git. .".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTGIT")),
        ),
        (
            "NTFS stream",
            b".git::$INDEX_ALLOCATION".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_DOTGIT")),
        ),
        (
            "FULL_PATHNAME",
            b"a/b".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "FULL_PATHNAME")),
        ),
        (
            "backslash",
            b"a\\b".to_vec(),
            "100644",
            Some(("invalid_tree_entry", "HAS_BACKSLASH")),
        ),
        (
            "EMPTY_NAME",
            Vec::new(),
            "100644",
            Some(("invalid_tree_entry", "EMPTY_NAME")),
        ),
        (
            "ZERO_PADDED_FILEMODE",
            b"zp.rs".to_vec(),
            "0100644",
            Some(("tree_fsck_warning", "ZERO_PADDED_FILEMODE")),
        ),
        (
            "BAD_FILEMODE",
            b"gw.rs".to_vec(),
            "100664",
            Some(("tree_fsck_warning", "BAD_FILEMODE")),
        ),
        ("windows device", b"CON".to_vec(), "100644", None),
        ("windows device ext", b"aux.rs".to_vec(), "100644", None),
        ("near miss", b".gitx".to_vec(), "100644", None),
    ];
    let mut outcomes = Vec::new();
    for (what, name, mode, expected) in &cases {
        let commit = commit_beside_package(&sb, &c, (mode, name, &x));
        let r = sb.verify(&sb.request(crate_with(&commit, &[]))).unwrap();
        outcomes.push(format!(
            "{what}: {} {:?}",
            r.verdict,
            r.findings.iter().map(|f| &f.kind).collect::<Vec<_>>()
        ));
        // Never a `match`: the extra entry is either refused (blocking finding) or expected
        // content the crate does not have.
        assert_ne!(r.verdict, Verdict::Match, "{what}");
        if let Some((kind, fsck_id)) = expected {
            let f = r
                .findings
                .iter()
                .find(|f| f.kind == *kind)
                .unwrap_or_else(|| panic!("{what}: no `{kind}` in {:?}", r.findings));
            assert!(f.message.contains(fsck_id), "{what}: {}", f.message);
        } else {
            assert!(!has_finding(&r, "invalid_tree_entry"), "{what}");
            let path = String::from_utf8(name.clone()).unwrap();
            assert_eq!(
                security_support::diff_kind(&r, &path),
                Some(provenance_core::DifferenceKind::OnlyInRepo),
                "{what}"
            );
        }
        if matches!(expected, Some(("invalid_tree_entry", _))) {
            // The refused name never becomes a report path.
            assert!(
                r.differences
                    .iter()
                    .all(|d| d.path.as_bytes() != name.as_slice()),
                "{what}"
            );
        }
    }
    for (what, entries, kind, fsck_id) in [
        (
            "DUPLICATE_ENTRIES",
            vec![
                ("100644", &b"Cargo.toml"[..], manifest_id.as_str()),
                ("100644", b"dup", &x),
                ("100644", b"dup", &manifest_id),
                ("40000", b"src", &src_id),
            ],
            "invalid_tree_entry",
            "DUPLICATE_ENTRIES",
        ),
        (
            "TREE_NOT_SORTED",
            vec![
                ("40000", &b"src"[..], src_id.as_str()),
                ("100644", b"Cargo.toml", &manifest_id),
                ("100644", b"a.rs", &x),
            ],
            "tree_fsck_warning",
            "TREE_NOT_SORTED",
        ),
    ] {
        let root = literal_tree(&bare, &entries);
        let commit = commit_tree(&sb, &root);
        let r = sb.verify(&sb.request(crate_with(&commit, &[]))).unwrap();
        outcomes.push(format!("{what}: {}", r.verdict));
        assert_ne!(
            r.verdict,
            Verdict::Match,
            "{what}: the extra entry is expected content"
        );
        let f = r.findings.iter().find(|f| f.kind == kind).expect(what);
        assert!(f.message.contains(fsck_id), "{what}: {}", f.message);
    }
    eprintln!("r10 outcomes:\n  {}", outcomes.join("\n  "));
}

#[test]
fn r11_symlink_blobs() {
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let (manifest_id, src_id) = fixture_ids(&sb, &c);
    let escaping: Vec<(&str, &[u8])> = vec![("abs", b"/etc/passwd"), ("up", b"../../etc/passwd")];
    // Loops and a dangling link into `.git`: cargo cannot package them.
    let loops: Vec<(&str, &[u8])> = vec![
        ("a", b"b"),
        ("b", b"a"),
        ("dotgit", b".git/config"),
        ("self", b"self"),
    ];
    for (set, want) in [
        (&escaping, "symlink_escapes_repository"),
        (&loops, "package_error"),
    ] {
        let ids: Vec<String> = set.iter().map(|(_, t)| blob(&bare, t)).collect();
        let mut entries: Vec<(&str, &[u8], &str)> = vec![
            ("100644", b"Cargo.toml", &manifest_id),
            ("40000", b"src", &src_id),
        ];
        for ((name, _), id) in set.iter().zip(&ids) {
            entries.push(("120000", name.as_bytes(), id));
        }
        entries.sort_by(|a, b| a.1.cmp(b.1));
        let root = literal_tree(&bare, &entries);
        let commit = commit_tree(&sb, &root);
        // The crate holds regular files under those names (as a flattening packager would).
        let extra: Vec<Vec<u8>> = set
            .iter()
            .map(|(n, _)| {
                security_support::entry(format!("foo-1.0.0/{n}").as_bytes(), b"root:x:0:0\n")
            })
            .collect();
        let r = sb.verify(&sb.request(crate_with(&commit, &extra))).unwrap();
        assert_ne!(r.verdict, Verdict::Match, "{}", r.to_json());
        assert!(has_finding(&r, want), "{}", r.to_json());
    }
    // A 10 MiB link text: refused by the blob limit (typed), never resolved.
    let long = "a/".repeat(5 << 20);
    let long_id = blob(&bare, long.as_bytes());
    let root = literal_tree(
        &bare,
        &[
            ("100644", b"Cargo.toml", &manifest_id),
            ("120000", b"long", &long_id),
            ("40000", b"src", &src_id),
        ],
    );
    let commit = commit_tree(&sb, &root);
    let long_entry = security_support::entry(b"foo-1.0.0/long", b"x");
    match sb.verify(&sb.request(crate_with(&commit, &[long_entry]))) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e:?}"),
        Ok(r) => assert_ne!(r.verdict, Verdict::Match),
    }
}

#[test]
fn r12_hostile_gitmodules() {
    let sb = Sandbox::new();
    let logs = tempfile::tempdir().unwrap();
    let daemon = net::GitDaemon::start(&sb.srv, logs.path());
    let marker = sb.outside.join("EXECUTED");
    let work_tmp = tempfile::tempdir().unwrap();
    let work = work_tmp.path();
    net::git(work, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(work.join("src")).unwrap();
    let m = net::manifest("foo", "1.0.0", &daemon.url("foo.git"));
    std::fs::write(work.join("Cargo.toml"), &m).unwrap();
    std::fs::write(work.join("src/lib.rs"), security_support::LIB_RS).unwrap();
    let gm = format!(
        "[submodule \"a\"]\n\tpath = a\n\turl = -u./payload\n[submodule \"b\"]\n\tpath = b\n\turl = ext::sh -c touch% {}\n[submodule \"../../modules/x\"]\n\tpath = c\n\turl = ssh://-oProxyCommand=touch%20{}/x\n[submodule \"d\"]\n\tpath = d\n\turl = file:///etc\n",
        marker.display(),
        marker.display()
    );
    std::fs::write(work.join(".gitmodules"), &gm).unwrap();
    net::git(work, &["add", "-A"]);
    for (p, id) in [
        ("a", "1".repeat(40)),
        ("b", "2".repeat(40)),
        ("c", "3".repeat(40)),
        ("d", "4".repeat(40)),
    ] {
        net::git(
            work,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{id},{p}"),
            ],
        );
    }
    net::git(work, &["commit", "-q", "-m", "package"]);
    let c = net::git(work, &["rev-parse", "HEAD"]);
    net::git(
        work,
        &[
            "clone",
            "-q",
            "--bare",
            ".",
            sb.repo_path().to_str().unwrap(),
        ],
    );
    let mut f = std_files(&c);
    for (p, d) in &mut f {
        if p.starts_with("Cargo.toml") {
            *d = m.clone().into_bytes();
        }
    }
    f.push((".gitmodules".into(), gm.into_bytes()));
    let mut o = sb.options();
    o.allow_insecure_transport = true;
    let req =
        Request::new(CrateSource::Bytes(tar_gz(&security_support::entries(&f)))).with_options(o);
    let r = sb.verify(&req).unwrap();
    assert!(!marker.exists(), "O4: a submodule URL was executed");
    let subs = &r
        .fetch
        .as_ref()
        .unwrap()
        .repository
        .as_ref()
        .unwrap()
        .submodules;
    assert!(subs.iter().all(|s| !s.available), "{subs:?}");
    assert!(
        r.findings
            .iter()
            .filter(|f| f.kind == "submodule_unavailable")
            .count()
            >= 2,
        "{}",
        r.to_json()
    );
    assert!(!r.to_json().contains('\r'));
}

#[test]
fn r13_too_many_refs() {
    let sb = Sandbox::new();
    let logs = tempfile::tempdir().unwrap();
    let daemon = net::GitDaemon::start(&sb.srv, logs.path());
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let mut input = String::new();
    for i in 0..2_000 {
        input.push_str(&format!("create refs/tags/t{i} {c}\n"));
    }
    let mut child = std::process::Command::new("git")
        .args(["update-ref", "--stdin"])
        .current_dir(&bare)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut o = fopts(&sb);
    o.max_refs = 1_000;
    let r = security_support::no_panic(|| {
        fetch::repository(
            &daemon.url("foo.git"),
            false,
            &Want::commit(c.clone()),
            &o,
            &mut Discard,
            &AtomicBool::new(false),
        )
    });
    match r {
        Err(fetch::Error::LimitExceeded(l)) => assert_eq!(l.limit, "max_refs"),
        other => panic!("expected max_refs, got {other:?}"),
    }
}

/// Hostile ref names in a v2 advertisement (`refs/tags/../../x`, `refs/heads/a..b`,
/// `refs/tags/CON`, a symref loop, an escape sequence, `.lock` names) next to a valid `main`:
/// the fetch of the commit succeeds, nothing outside the cache changes, and no advertised
/// hostile name is stored as a ref.
#[test]
fn r13_hostile_ref_names() {
    let (tip, entries) = commit_entries(b"[package]\n");
    let pack = pack_of(&entries);
    let other = "1".repeat(40);
    let extra: Vec<String> = [
        "refs/tags/../../x",
        "refs/tags/../../../../escaped",
        "refs/heads/a..b",
        "refs/tags/CON",
        "refs/tags/v1.0.0\u{1b}[31m",
        "refs/heads/loop symref-target:refs/heads/loop",
        "refs/tags/.lock",
        "refs/tags/x.lock",
    ]
    .iter()
    .map(|n| format!("{other} {n}"))
    .collect();
    let port = v2_server_with_refs(&tip, &extra, move |s| {
        let _ = s.write_all(&band1(&pack));
        let _ = s.write_all(b"0000");
    });
    let sb = Sandbox::new();
    let before = sb.snapshot();
    let r = security_support::no_panic(|| {
        fetch::repository(
            &format!("http://127.0.0.1:{port}/foo.git"),
            false,
            &Want::commit(tip.clone()),
            &fopts(&sb),
            &mut Discard,
            &AtomicBool::new(false),
        )
    });
    eprintln!("r13 hostile names: {r:?}");
    assert_eq!(sb.snapshot(), before, "nothing outside the cache changed");
    let f = r.unwrap();
    assert!(f.not_found.is_none(), "{f:?}");
    assert_eq!(f.info.reachable_from.as_deref(), Some("refs/heads/main"));
    let refs = net::git(&f.path, &["for-each-ref", "--format=%(refname)"]);
    for line in refs.lines() {
        assert!(
            !line.contains("..") && !line.contains("CON") && !line.contains("loop"),
            "stored an advertised hostile ref: {line}"
        );
    }
    for p in [
        f.path.parent().unwrap().join("x"),
        f.path.join("x"),
        f.path.join("escaped"),
    ] {
        assert!(!p.exists(), "{}", p.display());
    }
}

#[test]
fn r15_hostile_local_config() {
    let sb = Sandbox::new();
    let marker = sb.outside.join("EXECUTED");
    let work = sb.srv.join("work");
    std::fs::create_dir_all(work.join("src")).unwrap();
    net::git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("Cargo.toml"), security_support::manifest()).unwrap();
    std::fs::write(work.join("src/lib.rs"), security_support::LIB_RS).unwrap();
    std::fs::write(work.join(".gitattributes"), "*.rs filter=evil diff=evil\n").unwrap();
    net::git(&work, &["add", "-A"]);
    net::git(&work, &["commit", "-q", "-m", "package"]);
    let c = net::git(&work, &["rev-parse", "HEAD"]);
    let hooks = sb.srv.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let touch = format!("touch {}", marker.display());
    for h in [
        "post-checkout",
        "pre-commit",
        "reference-transaction",
        "fsmonitor-watchman",
    ] {
        let p = hooks.join(h);
        std::fs::write(&p, format!("#!/bin/sh\n{touch}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let inc = sb.srv.join("included.cfg");
    std::fs::write(
        &inc,
        format!("[core]\n\tsshCommand = {touch}\n[credential]\n\thelper = !{touch}\n"),
    )
    .unwrap();
    let cfg = work.join(".git/config");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "[core]\n\tfsmonitor = {touch}\n\thooksPath = {}\n\tsshCommand = {touch}\n\tpager = {touch}\n\taskPass = {touch}\n[filter \"evil\"]\n\tprocess = {touch}\n\tsmudge = {touch}\n\tclean = {touch}\n\trequired = true\n[diff \"evil\"]\n\ttextconv = {touch}\n[include]\n\tpath = {}\n",
        hooks.display(),
        inc.display()
    ));
    std::fs::write(&cfg, text).unwrap();
    let mut f = std_files(&c);
    f.push((
        ".gitattributes".into(),
        b"*.rs filter=evil diff=evil\n".to_vec(),
    ));
    let req = Request::new(CrateSource::Bytes(tar_gz(&security_support::entries(&f))))
        .with_repo(RepoSource::Path(work.clone()))
        .with_options(sb.options());
    let r = sb.verify(&req).unwrap();
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
    assert!(
        !marker.exists(),
        "O4: configuration from the repository was executed"
    );
}

#[test]
fn r16_cache_tampering() {
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    // The cache root is a symlink.
    let real = sb.srv.join("real-cache");
    std::fs::create_dir_all(&real).unwrap();
    let link = sb.root.join("cache-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let e = fetch::Cache::open(&link).unwrap_err();
    assert!(matches!(e, fetch::Error::Cache { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Io);
    // Spelled with trailing separators (which make `symlink_metadata` follow the link).
    for spelled in ["cache-link/", "cache-link//", "cache-link/."] {
        let e = fetch::Cache::open(&sb.root.join(spelled)).unwrap_err();
        assert!(matches!(e, fetch::Error::Cache { .. }), "{spelled}: {e:?}");
    }
    // An empty cache path would be the current directory.
    let e = fetch::Cache::open(Path::new("")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
    let mut o = sb.options();
    o.cache_dir = Some(link.clone());
    o.allow_insecure_transport = true;
    let req = Request::new(CrateSource::Bytes(crate_with(&c, &[])))
        .with_repo(RepoSource::Url("git://127.0.0.1:9/foo.git".into()))
        .with_options(o);
    let e = security_support::no_panic(|| provenance_core::verify(&req)).unwrap_err();
    assert!(
        matches!(e, provenance_core::Error::Fetch(fetch::Error::Cache { .. })),
        "{e:?}"
    );
    assert!(
        std::fs::read_dir(&real).unwrap().next().is_none(),
        "nothing written through the link"
    );
    // A repository directory in the cache replaced by a symlink (to a real repository).
    let logs = tempfile::tempdir().unwrap();
    let daemon = net::GitDaemon::start(&sb.srv, logs.path());
    let url = daemon.url("foo.git");
    let cache = fetch::Cache::open(&sb.cache).unwrap();
    let key = fetch::url::normalize(&url, true).unwrap().key;
    let (repo_dir, _) = cache.repo_paths(&key);
    std::os::unix::fs::symlink(sb.repo_path(), &repo_dir).unwrap();
    let e = repository(&url, false, &fopts(&sb)).unwrap_err();
    assert!(matches!(e, fetch::Error::Cache { .. }), "{e:?}");
}

#[test]
fn r17_transient_vs_permanent() {
    let sb = Sandbox::new();
    // Short: a TLS handshake against the plain server below waits for this timeout.
    let o = fopts_short_timeout(&sb);
    // 404 / 410: the repository does not exist (a verdict, not an error).
    for status in [404u16, 410] {
        let server = HttpServer::start(move |_| Response::status(status));
        let f = repository(&server.url("/foo.git"), false, &o).unwrap();
        assert!(f.not_found.is_some(), "{status}");
    }
    // 429 / 500 / 503: transient.
    for status in [429u16, 500, 503] {
        let server = HttpServer::start(move |_| Response::status(status));
        let e = repository(&server.url("/foo.git"), false, &o).unwrap_err();
        assert!(
            matches!(
                e,
                fetch::Error::Network {
                    transient: true,
                    ..
                }
            ),
            "{status}: {e:?}"
        );
    }
    // Connection reset, closed port, TLS against a plain server, DNS failure: network errors.
    let reset = raw_server(|_, s| {
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let plain = HttpServer::start(|_| Response::status(200));
    for url in [
        format!("http://127.0.0.1:{reset}/foo.git"),
        format!("http://127.0.0.1:{closed}/foo.git"),
        format!("https://127.0.0.1:{}/foo.git", plain.port),
        "https://does-not-exist.invalid/foo.git".to_owned(),
    ] {
        let start = Instant::now();
        let e = repository(&url, false, &o).unwrap_err();
        let took = start.elapsed();
        eprintln!("r17 {url}: {e} after {took:?}");
        assert!(matches!(e, fetch::Error::Network { .. }), "{url}: {e:?}");
        assert_eq!(e.kind(), ErrorKind::Network);
        // Ended by the error or by our timeouts (one try and one retry), never a hang.
        assert!(took < SHORT_HTTP_TIMEOUT * 10, "{url}: {took:?}");
    }
}
