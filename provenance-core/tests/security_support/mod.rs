//! Shared helpers of the security suites (shared/SECURITY.md §4): raw tar/PAX/GNU construction
//! (Appendix A), gzip members, a sandbox with canaries for O3, a panic/time harness for O2/O6,
//! and a child-process runner with an address-space limit reporting `VmHWM` for O5 (and a fake
//! `PATH` for O4).
#![allow(
    dead_code,
    clippy::missing_panics_doc,
    clippy::must_use_candidate,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

#[path = "../fetch_support/mod.rs"]
pub mod net;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use provenance_core::{CrateSource, Options, RepoSource, Report, Request};

// ------------------------------------------------------------------------------------------
// Tar construction (SECURITY.md Appendix A)
// ------------------------------------------------------------------------------------------

/// A raw GNU header: name bytes written straight into bytes 0..100 (bypassing `set_path`, which
/// refuses `..`), linkname into 157..257, then the checksum.
pub fn raw_header(path: &[u8], size: u64, ty: u8, link: Option<&[u8]>) -> [u8; 512] {
    let mut h = tar::Header::new_gnu();
    assert!(path.len() <= 100, "use a gnu long name for long paths");
    h.as_mut_bytes()[..path.len()].copy_from_slice(path);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::new(ty));
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    if let Some(l) = link {
        h.as_mut_bytes()[157..157 + l.len()].copy_from_slice(l);
    }
    h.set_cksum();
    let mut out = [0u8; 512];
    out.copy_from_slice(h.as_bytes());
    out
}

/// Recompute the checksum of a header modified by hand.
pub fn fix_cksum(h: &mut [u8]) {
    h[148..156].fill(b' ');
    let sum: u32 = h[..512].iter().map(|b| u32::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
}

/// Data padded to the next 512-byte block.
pub fn padded(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    let pad = (512 - data.len() % 512) % 512;
    v.resize(data.len() + pad, 0);
    v
}

/// A complete entry of type `ty` (header + padded data).
pub fn entry_ty(path: &[u8], data: &[u8], ty: u8, link: Option<&[u8]>) -> Vec<u8> {
    let mut v = raw_header(path, data.len() as u64, ty, link).to_vec();
    v.extend(padded(data));
    v
}

/// A regular file entry.
pub fn entry(path: &[u8], data: &[u8]) -> Vec<u8> {
    entry_ty(path, data, b'0', None)
}

/// A regular file entry with the given mode bits.
pub fn entry_mode(path: &[u8], data: &[u8], mode: u32) -> Vec<u8> {
    let mut v = entry(path, data);
    let mut h = tar::Header::new_gnu();
    h.as_mut_bytes().copy_from_slice(&v[..512]);
    h.set_mode(mode);
    h.set_cksum();
    v[..512].copy_from_slice(h.as_bytes());
    v
}

/// A directory entry.
pub fn dir(path: &[u8]) -> Vec<u8> {
    entry_ty(path, b"", b'5', None)
}

/// PAX record `"<len> key=value\n"` where `<len>` counts itself.
pub fn pax_rec(k: &str, v: &[u8]) -> Vec<u8> {
    let body_len = k.len() + 1 + v.len() + 1;
    let mut n = body_len + 2;
    loop {
        let s = format!("{n} ").len() + body_len;
        if s == n {
            break;
        }
        n = s;
    }
    let mut out = format!("{n} {k}=").into_bytes();
    out.extend_from_slice(v);
    out.push(b'\n');
    out
}

/// A PAX local extended header entry (`x`) carrying `data` verbatim.
pub fn pax_entry(data: &[u8]) -> Vec<u8> {
    entry_ty(b"./PaxHeaders/x", data, b'x', None)
}

/// A GNU long-name (`L`) or long-link (`K`) entry; `name` gets a trailing NUL.
pub fn gnu_long(kind: u8, name: &[u8]) -> Vec<u8> {
    let mut d = name.to_vec();
    d.push(0);
    entry_ty(b"././@LongLink", &d, kind, None)
}

/// Two zero blocks.
pub fn eoa() -> Vec<u8> {
    vec![0u8; 1024]
}

/// One gzip member.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Concatenate entries, add the end-of-archive marker, gzip.
pub fn tar_gz(entries: &[Vec<u8>]) -> Vec<u8> {
    gz(&tar_bytes(entries))
}

/// Concatenate entries and add the end-of-archive marker.
pub fn tar_bytes(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut t: Vec<u8> = entries.concat();
    t.extend(eoa());
    t
}

// ------------------------------------------------------------------------------------------
// The fixture package
// ------------------------------------------------------------------------------------------

pub const NAME: &str = "foo";
pub const VERSION: &str = "1.0.0";
pub const PREFIX: &str = "foo-1.0.0";
pub const LIB_RS: &[u8] = b"pub fn f() -> u32 {\n    42\n}\n";

/// The fixture manifest (as in the repository and in `Cargo.toml.orig`).
pub fn manifest() -> String {
    net::manifest(NAME, VERSION, "https://example.invalid/foo")
}

/// `.cargo_vcs_info.json` for `sha1` at the repository root.
pub fn vcs_info(sha1: &str) -> Vec<u8> {
    format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha1}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}")
        .into_bytes()
}

/// The files cargo publishes for the fixture commit (package-relative).
pub fn std_files(sha1: &str) -> Vec<(String, Vec<u8>)> {
    let m = manifest().into_bytes();
    vec![
        (".cargo_vcs_info.json".into(), vcs_info(sha1)),
        ("Cargo.toml".into(), m.clone()),
        ("Cargo.toml.orig".into(), m),
        ("src/lib.rs".into(), LIB_RS.to_vec()),
    ]
}

/// Entries for package-relative files under the `foo-1.0.0/` prefix.
pub fn entries(files: &[(String, Vec<u8>)]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|(p, d)| {
            let full = format!("{PREFIX}/{p}");
            if full.len() <= 100 {
                entry(full.as_bytes(), d)
            } else {
                let mut v = gnu_long(b'L', full.as_bytes());
                v.extend(entry(b"foo-1.0.0/long", d));
                v
            }
        })
        .collect()
}

/// The fixture crate with `extra` raw entries appended before the end marker.
pub fn crate_with(sha1: &str, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut e = entries(&std_files(sha1));
    e.extend(extra.iter().cloned());
    tar_gz(&e)
}

// ------------------------------------------------------------------------------------------
// Sandbox (O3) and harness (O2, O6)
// ------------------------------------------------------------------------------------------

/// `$T` with `cache/`, `outside/` (canaries) and `srv/` (repositories).
pub struct Sandbox {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub cache: PathBuf,
    pub outside: PathBuf,
    pub srv: PathBuf,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_owned();
        let cache = root.join("cache");
        let outside = root.join("outside");
        let srv = root.join("srv");
        std::fs::create_dir_all(outside.join("victim")).unwrap();
        std::fs::create_dir_all(&srv).unwrap();
        std::fs::write(outside.join("canary"), b"canary\n").unwrap();
        std::fs::write(outside.join("victim/passwd"), b"root:x:0:0\n").unwrap();
        Sandbox {
            tmp,
            root,
            cache,
            outside,
            srv,
        }
    }

    /// Every path under `$T` except `cache/`, with its size and mtime.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (u64, SystemTime, u32)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.root.clone()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p == self.cache {
                    continue;
                }
                let m = std::fs::symlink_metadata(&p).unwrap();
                use std::os::unix::fs::PermissionsExt;
                out.insert(
                    p.clone(),
                    (m.len(), m.modified().unwrap(), m.permissions().mode()),
                );
                if m.is_dir() {
                    stack.push(p);
                }
            }
        }
        out
    }

    /// Options with the cache inside the sandbox.
    pub fn options(&self) -> Options {
        let mut o = Options::default();
        o.cache_dir = Some(self.cache.clone());
        o
    }

    /// A bare repository `srv/foo.git` holding the fixture package; returns the commit.
    pub fn fixture_repo(&self) -> String {
        net::make_repo(&self.srv, NAME, &manifest(), 0, 0)
    }

    pub fn repo_path(&self) -> PathBuf {
        self.srv.join("foo.git")
    }

    /// A request for `bytes` against the fixture repository.
    pub fn request(&self, bytes: Vec<u8>) -> Request {
        Request::new(CrateSource::Bytes(bytes))
            .with_repo(RepoSource::Path(self.repo_path()))
            .with_options(self.options())
    }

    /// O2 + O3 + O6: verify without panicking, within 60 s, leaving everything outside the
    /// cache untouched.
    ///
    /// The O6 budgets here and in [`run_child`] only catch a case that does not end (a loop,
    /// a stalled read without timeout, work that explodes): each is far above what the case
    /// needs on an idle machine (at least 10 times, most of them 100 times and more), so that a
    /// busy machine passes too. They are not performance assertions.
    pub fn verify(&self, req: &Request) -> Result<Report, provenance_core::Error> {
        self.verify_within(req, 60)
    }

    pub fn verify_within(
        &self,
        req: &Request,
        secs: u64,
    ) -> Result<Report, provenance_core::Error> {
        let before = self.snapshot();
        let start = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            provenance_core::verify(req)
        }))
        .expect("O2: verify panicked");
        let took = start.elapsed();
        eprintln!("O6: verified in {took:?} (budget {secs} s)");
        assert!(
            took < Duration::from_secs(secs),
            "O6: took {took:?} (> {secs} s)"
        );
        let after = self.snapshot();
        assert_eq!(before, after, "O3: something outside the cache changed");
        r
    }
}

/// O2 for a closure.
pub fn no_panic<T>(f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect("O2: panicked")
}

/// `archive::parse` with default limits, O2.
pub fn parse(
    bytes: &[u8],
) -> Result<provenance_core::archive::CrateArchive, provenance_core::archive::Error> {
    parse_with(bytes, &provenance_core::Limits::default())
}

pub fn parse_with(
    bytes: &[u8],
    limits: &provenance_core::Limits,
) -> Result<provenance_core::archive::CrateArchive, provenance_core::archive::Error> {
    no_panic(|| provenance_core::archive::parse(bytes, limits))
}

/// The archive error inside a verify error.
pub fn archive_err(r: Result<Report, provenance_core::Error>) -> provenance_core::archive::Error {
    match r {
        Err(provenance_core::Error::Archive(e)) => e,
        Err(e) => panic!("expected an archive error, got {e:?}"),
        Ok(rep) => panic!("expected an archive error, got {}", rep.to_json()),
    }
}

/// The metadata error inside a verify error.
pub fn metadata_err(r: Result<Report, provenance_core::Error>) -> provenance_core::metadata::Error {
    match r {
        Err(provenance_core::Error::Metadata(e)) => e,
        Err(e) => panic!("expected a metadata error, got {e:?}"),
        Ok(rep) => panic!("expected a metadata error, got {}", rep.to_json()),
    }
}

pub fn has_finding(r: &Report, kind: &str) -> bool {
    r.findings.iter().any(|f| f.kind == kind)
}

pub fn diff_kind(r: &Report, path: &str) -> Option<provenance_core::DifferenceKind> {
    r.differences
        .iter()
        .find(|d| d.path == path)
        .map(|d| d.kind)
}

// ------------------------------------------------------------------------------------------
// Child processes (O4, O5)
// ------------------------------------------------------------------------------------------

pub const CHILD_ENV: &str = "PROV_SECURITY_CHILD";

/// Whether this process is the child of `run_child`.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
pub fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Called by the child at the end of a case: prints the outcome and peak RSS.
pub fn child_report(outcome: &str) {
    println!("PROV_OUTCOME={}", outcome.replace('\n', " "));
    println!("PROV_VMHWM_KIB={}", vm_hwm_kib());
}

/// What a child reported.
#[derive(Debug)]
pub struct ChildOutcome {
    pub success: bool,
    pub outcome: String,
    pub vm_hwm_kib: u64,
    pub elapsed: Duration,
    pub output: String,
}

/// Re-run the test `test` of this binary in a child process under `prlimit --as=as_limit`,
/// with `env` added (and, with `path`, `PATH` replaced), killed after `timeout` (an O6 hang
/// guard: see [`Sandbox::verify`]).
pub fn run_child(
    test: &str,
    as_limit: u64,
    timeout: Duration,
    env: &[(&str, &std::ffi::OsStr)],
    path: Option<&Path>,
) -> ChildOutcome {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new("/usr/bin/prlimit");
    cmd.arg(format!("--as={as_limit}"))
        .arg("--")
        .arg(&exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("MALLOC_ARENA_MAX", "2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err_t = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let output = out_t.join().unwrap() + &err_t.join().unwrap();
    let outcome = output
        .lines()
        .find_map(|l| l.split_once("PROV_OUTCOME=").map(|(_, o)| o))
        .unwrap_or_default()
        .to_owned();
    let vm_hwm_kib = output
        .lines()
        .find_map(|l| l.split_once("PROV_VMHWM_KIB=").map(|(_, v)| v))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(u64::MAX);
    assert!(
        status.is_some(),
        "O6: the child did not finish within {timeout:?}:\n{output}"
    );
    ChildOutcome {
        success: status.is_some_and(|s| s.success()),
        outcome,
        vm_hwm_kib,
        elapsed,
        output,
    }
}

/// Assert a child case succeeded under the O5 budget (256 MiB), printing the figure.
pub fn assert_bounded(case: &str, out: &ChildOutcome, budget_mib: u64) {
    assert!(out.success, "{case}: child failed:\n{}", out.output);
    eprintln!(
        "O5 {case}: peak RSS {} KiB ({:.1} MiB) in {:?}: {}",
        out.vm_hwm_kib,
        out.vm_hwm_kib as f64 / 1024.0,
        out.elapsed,
        out.outcome
    );
    assert!(
        out.vm_hwm_kib < budget_mib * 1024,
        "O5 {case}: peak RSS {} KiB exceeds {budget_mib} MiB",
        out.vm_hwm_kib
    );
}

/// A directory of fake `git`, `git-upload-pack`, `ssh`, `sh`, `cargo`, `rustc` that each touch
/// `<outside>/EXECUTED` (O4). Returns the directory.
pub fn fake_bin(sb: &Sandbox) -> PathBuf {
    let bin = sb.root.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = sb.outside.join("EXECUTED");
    for name in [
        "git",
        "git-upload-pack",
        "git-receive-pack",
        "ssh",
        "sh",
        "bash",
        "cargo",
        "rustc",
        "git-lfs",
        "git-credential-store",
    ] {
        let p = bin.join(name);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho {name} >> '{}'\n", marker.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}
