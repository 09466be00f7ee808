//! Shared test and bench support: the tests/data/realworld data set (crates downloaded from
//! static.crates.io and checked against their index sha256; repositories unpacked once), and
//! helpers to rebuild `.crate` files for tamper tests.
#![allow(dead_code, clippy::struct_field_names)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use sha2::Digest;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/data/realworld` in this repository (or `$CRATE_PROVENANCE_REALWORLD`). Panics when absent: the suite must
/// fail loudly, never skip.
pub fn realworld_dir() -> PathBuf {
    let dir = std::env::var_os("CRATE_PROVENANCE_REALWORLD")
        .map_or_else(|| repo_root().join("tests/data/realworld"), PathBuf::from);
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "the realworld data set is missing at {} (set CRATE_PROVENANCE_REALWORLD)",
        dir.display()
    );
    dir
}

/// Where downloaded crates and unpacked repositories are kept between runs.
pub fn cache_dir() -> PathBuf {
    let dir = std::env::var_os("CRATE_PROVENANCE_TEST_CACHE")
        .map_or_else(|| repo_root().join("target/realworld-cache"), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefDiff {
    pub path: String,
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    pub files_published: Vec<String>,
    pub differences: Vec<RefDiff>,
    pub rev: String,
    pub rev_source: String,
    pub path_in_vcs: String,
    #[serde(default)]
    pub closest_upstream_commit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub name: String,
    pub version: String,
    pub crate_url: String,
    pub crate_sha256: String,
    /// `package.repository` of the published manifest, verbatim.
    pub repository: String,
    pub repo_archive: String,
    pub expected_verdict: String,
    pub reference: Reference,
}

/// One realworld entry, with local paths.
#[derive(Debug, Clone)]
pub struct Entry {
    pub expected: Expected,
    pub crate_file: PathBuf,
    pub repo: PathBuf,
}

impl Entry {
    pub fn id(&self) -> String {
        format!("{}-{}", self.expected.name, self.expected.version)
    }
}

fn sha256_file(p: &Path) -> String {
    hex(&sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// Download (once) and check a crate file; unpack (once) its repository archive.
pub fn entry(id: &str) -> Entry {
    // One at a time in this process: tests run in parallel, and on a fresh clone several ask
    // for the same crate at once (they would write the same temporary file or directory).
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = realworld_dir().join(id);
    let expected: Expected =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let cache = cache_dir();
    let crates = cache.join("crates");
    std::fs::create_dir_all(&crates).unwrap();
    let crate_file = crates.join(format!("{id}.crate"));
    if !crate_file.is_file() || sha256_file(&crate_file) != expected.crate_sha256 {
        let tmp = crates.join(format!("{id}.crate.part{}", std::process::id()));
        let st = Command::new("curl")
            .args(["-sSfL", "--retry", "3", "-o"])
            .arg(&tmp)
            .arg(&expected.crate_url)
            .status()
            .expect("curl must be installed");
        assert!(st.success(), "download of {} failed", expected.crate_url);
        assert_eq!(
            sha256_file(&tmp),
            expected.crate_sha256,
            "{id}: sha256 differs from the index cksum"
        );
        std::fs::rename(&tmp, &crate_file).unwrap();
    }
    let repo_dir = cache
        .join("repos")
        .join(expected.repo_archive.replace('/', "_"));
    let repo = repo_dir.join("repo.git");
    if !repo.join("HEAD").is_file() {
        let tmp = cache
            .join("repos")
            .join(format!("tmp{}-{id}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let st = Command::new("tar")
            .arg("-xzf")
            .arg(realworld_dir().join(&expected.repo_archive))
            .arg("-C")
            .arg(&tmp)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::create_dir_all(repo_dir.parent().unwrap()).unwrap();
        if std::fs::rename(&tmp, &repo_dir).is_err() {
            // Another test unpacked it meanwhile.
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Entry {
        expected,
        crate_file,
        repo,
    }
}

/// Every entry of MANIFEST.tsv.
pub fn all_ids() -> Vec<String> {
    let text = std::fs::read_to_string(realworld_dir().join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            format!("{}-{}", f.next().unwrap(), f.next().unwrap())
        })
        .collect()
}

/// A `.crate` entry for rebuilding archives.
#[derive(Debug, Clone)]
pub enum TarEntry {
    File(Vec<u8>),
    Symlink(String),
}

/// Unpack a `.crate` into `(path without prefix, bytes)` pairs (test helper; trusted input).
pub fn unpack(bytes: &[u8]) -> (String, Vec<(String, TarEntry)>) {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut prefix = String::new();
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        let (pre, rest) = p.split_once('/').unwrap();
        pre.clone_into(&mut prefix);
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        out.push((rest.to_owned(), TarEntry::File(data)));
    }
    (prefix, out)
}

/// Pack entries as cargo does (gzip + GNU tar, `prefix/` before each path).
pub fn pack(prefix: &str, entries: &[(String, TarEntry)]) -> Vec<u8> {
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(enc);
    for (p, e) in entries {
        let path = format!("{prefix}/{p}");
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(1);
        match e {
            TarEntry::File(d) => {
                h.set_size(d.len() as u64);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, &path, d.as_slice()).unwrap();
            }
            TarEntry::Symlink(t) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, &path, t).unwrap();
            }
        }
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Run `git` in `dir` as a fixture author: no system or global configuration, fixed identity
/// and the given date (so commit ids are stable). Panics with git's stderr on failure.
pub fn git_fixture(dir: &Path, args: &[&str], date: &str) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // No automatic `git gc`: a detached background gc started by one command can delete the
        // loose objects a following `git clone` copies (seen under load, issue 18).
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "gc.auto")
        .env("GIT_CONFIG_VALUE_0", "0")
        .env("GIT_AUTHOR_NAME", "a")
        .env("GIT_AUTHOR_EMAIL", "a@example.com")
        .env("GIT_COMMITTER_NAME", "a")
        .env("GIT_COMMITTER_EMAIL", "a@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git must be installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Download (once) a real crate version from static.crates.io and check it against the sha256
/// the index records for it (`cksum`, written into the test).
pub fn registry_crate(name: &str, version: &str, sha256: &str) -> PathBuf {
    let crates = cache_dir().join("registry-crates");
    std::fs::create_dir_all(&crates).unwrap();
    let file = crates.join(format!("{name}-{version}.crate"));
    if !file.is_file() || sha256_file(&file) != sha256 {
        let url = format!("https://static.crates.io/crates/{name}/{name}-{version}.crate");
        // Unique per download: two tests of one process may fetch the same crate at once.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = crates.join(format!(
            "{name}-{version}.crate.part{}-{n}",
            std::process::id()
        ));
        let st = Command::new("curl")
            .args(["-sSfL", "--retry", "3", "-o"])
            .arg(&tmp)
            .arg(&url)
            .status()
            .expect("curl must be installed");
        assert!(st.success(), "download of {url} failed");
        assert_eq!(
            sha256_file(&tmp),
            sha256,
            "{name} {version}: sha256 differs from the index cksum"
        );
        std::fs::rename(&tmp, &file).unwrap();
    }
    file
}
