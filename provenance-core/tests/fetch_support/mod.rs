//! Real servers on 127.0.0.1 for the fetch tests: a tiny threaded HTTP/1.1 server (static
//! registry files, fault injection, and `git http-backend` as CGI) and `git daemon`. Also
//! helpers to build fixture repositories (with the `git` CLI: test set-up only) and `.crate`s.
#![allow(
    dead_code,
    clippy::missing_panics_doc,
    clippy::format_push_string,
    clippy::type_complexity
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// One HTTP request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// What the handler answers.
pub enum Response {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Declares `declared` bytes of content but sends `body` and closes.
    Truncated { declared: usize, body: Vec<u8> },
    /// Waits, then answers.
    Slow {
        delay: Duration,
        inner: Box<Response>,
    },
    /// Waits until `gate` is opened (at most 10 minutes), then answers.
    Held { gate: Gate, inner: Box<Response> },
}

/// A gate that [`Response::Held`] answers wait on: a test holds a request for as long as it
/// needs (instead of guessing a delay) and opens the gate when it is done.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    /// Let every held answer (and every later one) through.
    pub fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }

    fn wait(&self) {
        let (open, cv) = &*self.0;
        let guard = open.lock().unwrap();
        let _ = cv
            .wait_timeout_while(guard, Duration::from_secs(600), |open| !*open)
            .unwrap();
    }
}

impl Response {
    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response::Full {
            status: 200,
            headers: vec![],
            body: body.into(),
        }
    }
    pub fn status(status: u16) -> Response {
        Response::Full {
            status,
            headers: vec![],
            body: format!("status {status}\n").into_bytes(),
        }
    }
    pub fn redirect(location: &str) -> Response {
        Response::Full {
            status: 302,
            headers: vec![("Location".into(), location.into())],
            body: vec![],
        }
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A loopback HTTP server with an access log.
pub struct HttpServer {
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log2 = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = handler.clone();
                let log = log2.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &*handler, &log);
                });
            }
        });
        HttpServer { port, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    if let Some(len) = headers.get("content-length") {
        let len: usize = len.parse().unwrap_or(0);
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    log.lock().unwrap().push(format!("{method} {target}"));
    let req = Request {
        method,
        path,
        query,
        headers,
        body,
    };
    let mut out = stream;
    write_response(&mut out, handler(&req))
}

fn write_response(out: &mut TcpStream, resp: Response) -> std::io::Result<()> {
    match resp {
        Response::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            out.write_all(head.as_bytes())?;
            out.write_all(&body)?;
        }
        Response::Truncated { declared, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            out.write_all(head.as_bytes())?;
            out.write_all(&body)?;
        }
        Response::Slow { delay, inner } => {
            std::thread::sleep(delay);
            return write_response(out, *inner);
        }
        Response::Held { gate, inner } => {
            gate.wait();
            return write_response(out, *inner);
        }
    }
    out.flush()?;
    let _ = out.shutdown(std::net::Shutdown::Both);
    Ok(())
}

/// Answer with `git http-backend` (CGI) for repositories under `root`.
pub fn git_http_backend(root: &Path, req: &Request) -> Response {
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &req.method)
        .env("PATH_INFO", &req.path)
        .env("QUERY_STRING", &req.query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = req.headers.get("content-type") {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(p) = req.headers.get("git-protocol") {
        cmd.env("GIT_PROTOCOL", p);
    }
    if let Some(e) = req.headers.get("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", e);
    }
    cmd.env("CONTENT_LENGTH", req.body.len().to_string());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let body = req.body.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let data = out.stdout;
    let split = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| data.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((i, n)) = split else {
        return Response::status(500);
    };
    let head = String::from_utf8_lossy(&data[..i]).into_owned();
    let mut status = 200;
    let mut headers = Vec::new();
    for l in head.lines() {
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("status") {
                status = v.trim()[..3].parse().unwrap_or(500);
            } else {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
    }
    Response::Full {
        status,
        headers,
        body: data[i + n..].to_vec(),
    }
}

/// A `git daemon` on loopback serving `base` (every repository exported); killed on drop.
pub struct GitDaemon {
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl GitDaemon {
    pub fn start(base: &Path, log_dir: &Path) -> GitDaemon {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log = log_dir.join(format!("daemon-{port}.log"));
        // `git-daemon` itself, not the `git` wrapper: `git daemon` runs it as a child, which a
        // kill of the wrapper would leave behind, listening.
        let exec_path = Command::new("git").arg("--exec-path").output().unwrap();
        let exec_path = String::from_utf8_lossy(&exec_path.stdout).trim().to_owned();
        let mut child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .arg("--export-all")
            .arg(format!("--base-path={}", base.display()))
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg("--reuseaddr")
            .arg("--verbose")
            .arg("--enable=upload-pack")
            .arg(base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", log_dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Ready once it accepts a connection (the probe is logged as a connection without a
        // request). The deadline only catches a daemon that never comes up; a busy machine
        // starting it slowly just waits longer.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "git daemon exited ({status}) before listening on port {port}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "git daemon is not listening on port {port} after 120 s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        GitDaemon { port, child, log }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }

    /// How many `upload-pack` requests the daemon served.
    pub fn upload_packs(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Request upload-pack"))
            .count()
    }

    /// How many `upload-pack` requests the daemon served for paths containing `repo`.
    pub fn upload_packs_for(&self, repo: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Request upload-pack") && l.contains(repo))
            .count()
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `git` in `dir` with a fixed, isolated environment; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // No automatic `git gc`: a detached background gc started by one command can delete the
        // loose objects a following `git clone` is copying (seen under load, issue 18).
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "gc.auto")
        .env("GIT_CONFIG_VALUE_0", "0")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A fixture package: the files of the repository at the published commit.
pub fn manifest(name: &str, version: &str, repository: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"fixture\"\nrepository = \"{repository}\"\n"
    )
}

/// Create a bare repository `<base>/<name>.git` whose history has `filler` commits, then the
/// package commit (`Cargo.toml` + `src/lib.rs`), then `after` more commits on `main`. Returns
/// the package commit id.
pub fn make_repo(base: &Path, name: &str, manifest: &str, filler: usize, after: usize) -> String {
    let work = base.join(format!("{name}.work"));
    std::fs::create_dir_all(work.join("src")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    for i in 0..filler {
        std::fs::write(
            work.join(format!("filler{}.txt", i % 7)),
            format!("{i}\n").repeat(50),
        )
        .unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", &format!("filler {i}")]);
    }
    for i in 0..filler.min(7) {
        std::fs::remove_file(work.join(format!("filler{i}.txt"))).unwrap();
    }
    std::fs::write(work.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(work.join("src/lib.rs"), "pub fn f() -> u32 {\n    42\n}\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "package"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    for i in 0..after {
        std::fs::write(work.join("src/later.rs"), format!("// {i}\n")).unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", &format!("later {i}")]);
    }
    let bare = base.join(format!("{name}.git"));
    git(
        base,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    std::fs::remove_dir_all(&work).unwrap();
    commit
}

/// A gzip'd tar of regular files (mode 0644), each under `prefix/`, in the order given.
pub fn tar_gz<P: AsRef<str>>(prefix: &str, files: &[(P, Vec<u8>)]) -> Vec<u8> {
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(enc);
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut h,
            format!("{prefix}/{}", path.as_ref()),
            data.as_slice(),
        )
        .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// The `.crate` cargo would publish from `make_repo`'s package commit.
pub fn make_crate(name: &str, version: &str, manifest: &str, sha1: &str) -> Vec<u8> {
    let prefix = format!("{name}-{version}");
    let vcs =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha1}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    let files: Vec<(&str, Vec<u8>)> = vec![
        (".cargo_vcs_info.json", vcs.into_bytes()),
        ("Cargo.toml", manifest.as_bytes().to_vec()),
        ("Cargo.toml.orig", manifest.as_bytes().to_vec()),
        ("src/lib.rs", b"pub fn f() -> u32 {\n    42\n}\n".to_vec()),
    ];
    tar_gz(&prefix, &files)
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A sparse registry served over loopback HTTP: `files` maps paths to responses.
pub struct Registry {
    pub server: HttpServer,
    pub files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    pub faults: Arc<Mutex<BTreeMap<String, Box<dyn Fn() -> Response + Send>>>>,
}

impl Registry {
    pub fn start() -> Registry {
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let faults: Arc<Mutex<BTreeMap<String, Box<dyn Fn() -> Response + Send>>>> = Arc::default();
        let (f2, x2) = (files.clone(), faults.clone());
        let server = HttpServer::start(move |req| {
            if let Some(fault) = x2.lock().unwrap().get(&req.path) {
                return fault();
            }
            match f2.lock().unwrap().get(&req.path) {
                Some(b) => Response::ok(b.clone()),
                None => Response::status(404),
            }
        });
        let reg = Registry {
            server,
            files,
            faults,
        };
        let dl = reg.server.url("/crates/{crate}/{crate}-{version}.crate");
        reg.put(
            "/index/config.json",
            format!("{{\"dl\":\"{dl}\"}}").as_bytes(),
        );
        reg
    }

    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.server.url("/index/"))
    }

    pub fn put(&self, path: &str, bytes: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), bytes.to_vec());
    }

    pub fn fault(&self, path: &str, f: impl Fn() -> Response + Send + 'static) {
        self.faults
            .lock()
            .unwrap()
            .insert(path.to_owned(), Box::new(f));
    }

    pub fn crate_path(name: &str, version: &str) -> String {
        format!("/crates/{name}/{name}-{version}.crate")
    }

    /// Publish `bytes` as `name@version` with the given index `cksum` (default: the real one).
    pub fn publish(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
        cksum: Option<&str>,
        yanked: bool,
    ) {
        let cksum = cksum.map_or_else(|| sha256(bytes), str::to_owned);
        let line = format!(
            "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":{yanked}}}\n"
        );
        let n = name.to_ascii_lowercase();
        let rel = match n.len() {
            1 => format!("1/{n}"),
            2 => format!("2/{n}"),
            3 => format!("3/{}/{n}", &n[..1]),
            _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
        };
        let key = format!("/index/{rel}");
        let mut files = self.files.lock().unwrap();
        files
            .entry(key)
            .or_default()
            .extend_from_slice(line.as_bytes());
        files.insert(Self::crate_path(name, version), bytes.to_vec());
    }
}
