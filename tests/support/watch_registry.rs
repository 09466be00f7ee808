//! A sparse registry on loopback that answers conditional requests as crates.io's CDN does
//! (`ETag` → `304 Not Modified` without a body) and counts, on the server side, what it served.
//! Versions can be published and yanked while it runs. Shared by tests/watch.rs and
//! benches/watch_poll.rs (both declare `mod fetch_support` at their root).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use crate::fetch_support::{HttpServer, Response, sha256};

/// Index lines by crate: name → [(version, cksum, yanked)].
pub type Index = BTreeMap<String, Vec<(String, String, bool)>>;

/// What the registry served, counted on the server side.
#[derive(Debug, Default, Clone)]
pub struct Served {
    /// Index-file answers with a body (200), by path.
    pub full: BTreeMap<String, usize>,
    /// Index-file answers `304 Not Modified`, by path.
    pub not_modified: BTreeMap<String, usize>,
    /// Body bytes of index-file answers.
    pub index_body_bytes: usize,
}

impl Served {
    pub fn full_total(&self) -> usize {
        self.full.values().sum()
    }
    pub fn not_modified_total(&self) -> usize {
        self.not_modified.values().sum()
    }
}

/// A sparse registry whose index files carry an `ETag` (and `Last-Modified`) and answer
/// `If-None-Match` with a 304 without a body, as crates.io's CDN does.
pub struct Registry {
    pub server: HttpServer,
    /// Index lines by crate (name → [(version, cksum, yanked)]).
    versions: Arc<Mutex<Index>>,
    crates: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    served: Arc<Mutex<Served>>,
}

fn index_rel(n: &str) -> String {
    let n = n.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

fn index_file(name: &str, lines: &[(String, String, bool)]) -> Vec<u8> {
    let mut s = String::new();
    for (v, ck, y) in lines {
        let _ = writeln!(
            s,
            "{{\"name\":\"{name}\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{ck}\",\"features\":{{}},\"yanked\":{y}}}"
        );
    }
    s.into_bytes()
}

impl Registry {
    pub fn start() -> Registry {
        let versions: Arc<Mutex<Index>> = Arc::default();
        let crates: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let served: Arc<Mutex<Served>> = Arc::default();
        let port = Arc::new(Mutex::new(0u16));
        let (v2, c2, s2, p2) = (
            versions.clone(),
            crates.clone(),
            served.clone(),
            port.clone(),
        );
        let server = HttpServer::start(move |req| {
            if req.path == "/index/config.json" {
                let port = *p2.lock().unwrap();
                return Response::ok(format!(
                    "{{\"dl\":\"http://127.0.0.1:{port}/crates/{{crate}}/{{crate}}-{{version}}.crate\"}}"
                ));
            }
            if let Some(rel) = req.path.strip_prefix("/index/") {
                let versions = v2.lock().unwrap();
                let Some((name, lines)) = versions.iter().find(|(n, _)| index_rel(n) == rel) else {
                    return Response::status(404);
                };
                let body = index_file(name, lines);
                let etag = format!("\"{}\"", &sha256(&body)[..16]);
                let mut served = s2.lock().unwrap();
                if req.headers.get("if-none-match") == Some(&etag) {
                    *served.not_modified.entry(req.path.clone()).or_default() += 1;
                    return Response::Full {
                        status: 304,
                        headers: vec![("ETag".into(), etag)],
                        body: vec![],
                    };
                }
                *served.full.entry(req.path.clone()).or_default() += 1;
                served.index_body_bytes += body.len();
                return Response::Full {
                    status: 200,
                    headers: vec![
                        ("ETag".into(), etag),
                        (
                            "Last-Modified".into(),
                            "Mon, 01 Jan 2024 00:00:00 GMT".into(),
                        ),
                    ],
                    body,
                };
            }
            match c2.lock().unwrap().get(&req.path) {
                Some(b) => Response::ok(b.clone()),
                None => Response::status(404),
            }
        });
        *port.lock().unwrap() = server.port;
        Registry {
            server,
            versions,
            crates,
            served,
        }
    }

    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.server.url("/index/"))
    }

    pub fn publish(&self, name: &str, version: &str, bytes: &[u8]) {
        self.crates.lock().unwrap().insert(
            format!("/crates/{name}/{name}-{version}.crate"),
            bytes.to_vec(),
        );
        self.versions
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .push((version.to_owned(), sha256(bytes), false));
    }

    pub fn yank(&self, name: &str, version: &str, yanked: bool) {
        let mut v = self.versions.lock().unwrap();
        let line = v
            .get_mut(name)
            .and_then(|l| l.iter_mut().find(|l| l.0 == version))
            .unwrap();
        line.2 = yanked;
    }

    pub fn served(&self) -> Served {
        self.served.lock().unwrap().clone()
    }

    pub fn reset_counts(&self) {
        *self.served.lock().unwrap() = Served::default();
    }
}
