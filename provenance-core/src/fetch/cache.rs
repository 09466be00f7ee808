//! The on-disk cache: `.crate` files content-addressed by sha256, registry index files, and one
//! bare repository per normalized repository URL.
//!
//! ```text
//! <cache>/crates/<sha256[..2]>/<sha256>.crate
//! <cache>/index/<index key>/<crate name>          raw sparse index file (for --offline)
//! <cache>/git/<url key>/                          bare repository (never checked out)
//! <cache>/git/<url key>/provenance/<commit>.json  what was fetched for that commit
//! <cache>/locks/<url key>.lock                    exclusive lock while fetching
//! ```
//!
//! Safe for concurrent processes: every file is written to a temporary file in the same
//! directory and renamed into place; repositories are created under a temporary name and renamed;
//! fetches into one repository are serialized by an exclusive file lock. The root is created
//! with mode `0700` and refused when it is a symlink. Cached `.crate` files are re-hashed on read.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;

use super::error::Error;

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// The default cache directory: `$XDG_CACHE_HOME/crate-provenance`, else
/// `$HOME/.cache/crate-provenance`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("crate-provenance"))
}

fn io_err(path: &Path, what: &str, source: &std::io::Error) -> Error {
    Error::Cache {
        path: path.display().to_string(),
        message: format!("{what}: {source}"),
    }
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// A filesystem-safe, collision-free name for `s`: its readable part plus a hash.
pub fn key_name(s: &str) -> String {
    let readable: String = s
        .split("://")
        .last()
        .unwrap_or(s)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '+'
            }
        })
        .take(80)
        .collect();
    let readable = readable.trim_start_matches('.');
    let hash = crate::ids::hex(&sha2::Sha256::digest(s.as_bytes()));
    format!("{readable}-{}", &hash[..16])
}

impl Cache {
    /// Open (and create, `0700`) the cache at `root`; a symlinked root is refused.
    pub fn open(root: &Path) -> Result<Cache, Error> {
        if root.as_os_str().is_empty() {
            return Err(Error::InvalidInput {
                message: "the cache directory is empty (it would be the current directory)".into(),
            });
        }
        // `link/` would make `symlink_metadata` follow the link: check the path without
        // trailing separators (components drop them).
        let root: PathBuf = root.components().collect();
        let root = root.as_path();
        match std::fs::symlink_metadata(root) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::Cache {
                    path: root.display().to_string(),
                    message: "the cache directory is a symlink".into(),
                });
            }
            Ok(m) if !m.is_dir() => {
                return Err(Error::Cache {
                    path: root.display().to_string(),
                    message: "the cache path is not a directory".into(),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(root).map_err(|e| io_err(root, "cannot create", &e))?;
            }
            Err(e) => return Err(io_err(root, "cannot read", &e)),
        }
        let cache = Cache {
            root: root.to_owned(),
        };
        for d in ["crates", "index", "git", "locks"] {
            cache.subdir(d)?;
        }
        Ok(cache)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn subdir(&self, rel: &str) -> Result<PathBuf, Error> {
        let p = self.root.join(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() || !m.is_dir() => Err(Error::Cache {
                path: p.display().to_string(),
                message: "expected a directory, found a symlink or file".into(),
            }),
            Ok(_) => Ok(p),
            Err(_) => {
                create_private_dir(&p).map_err(|e| io_err(&p, "cannot create", &e))?;
                Ok(p)
            }
        }
    }

    /// Where a `.crate` with this sha256 is kept.
    pub fn crate_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("crates")
            .join(&sha256[..2.min(sha256.len())])
            .join(format!("{sha256}.crate"))
    }

    /// Read a cached `.crate`, re-verifying its sha256. A corrupt entry is removed and `None`
    /// returned.
    pub fn read_crate(&self, sha256: &str, max: u64) -> Result<Option<Vec<u8>>, Error> {
        let path = self.crate_path(sha256);
        let bytes = match read_limited(&path, max) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(None),
            Err(e) => return Err(io_err(&path, "cannot read", &e)),
        };
        if crate::ids::hex(&sha2::Sha256::digest(&bytes)) != sha256 {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    /// Store a verified `.crate` (content-addressed).
    pub fn write_crate(&self, sha256: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
        let path = self.crate_path(sha256);
        self.write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// The directory for a registry's index files.
    pub fn index_dir(&self, index_key: &str) -> Result<PathBuf, Error> {
        self.subdir(&format!("index/{}", key_name(index_key)))
    }

    /// The bare repository directory for a normalized URL key, and its lock file.
    pub fn repo_paths(&self, url_key: &str) -> (PathBuf, PathBuf) {
        let name = key_name(url_key);
        (
            self.root.join("git").join(&name),
            self.root.join("locks").join(format!("{name}.lock")),
        )
    }

    /// A fresh temporary path next to `path` (same filesystem, so renames are atomic).
    pub fn temp_path(path: &Path) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        path.with_file_name(format!(".tmp-{}-{n}-{nanos}-{name}", std::process::id()))
    }

    /// Write `bytes` to `path` through a temporary file and an atomic rename.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(|e| io_err(dir, "cannot create", &e))?;
        }
        let tmp = Self::temp_path(path);
        let result = (|| {
            let mut f = std::fs::File::create_new(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(path, "cannot write", &e));
        }
        Ok(())
    }
}

/// Read at most `max` bytes; `Ok(None)` when the file does not exist.
pub(crate) fn read_limited(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut out)?;
    Ok(Some(out))
}

/// An exclusive lock on a file, released on drop.
#[derive(Debug)]
pub struct Lock {
    file: std::fs::File,
}

impl Lock {
    /// Block until the exclusive lock on `path` is held.
    pub fn exclusive(path: &Path) -> Result<Lock, Error> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| io_err(path, "cannot open lock file", &e))?;
        fs4::FileExt::lock(&file).map_err(|e| io_err(path, "cannot lock", &e))?;
        Ok(Lock { file })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(&self.file);
    }
}
