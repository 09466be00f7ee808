//! Read-only access to a local git repository through gix: resolve a commit, read trees and
//! blobs. No working tree is ever created and no `git` process is started.
//!
//! Repositories are untrusted input: they are opened with [`gix::open::Options::isolated`]
//! (no system/global/user configuration, no environment overrides, no hooks; we never check
//! out, so no filters run), and `gitoxide.objects.allocLimit` bounds single allocations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gix::ObjectId;

use crate::error::{ErrorKind, LimitError};
use crate::limits::Limits;

/// Errors reading a repository.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not a git repository (or does not exist).
    #[error("`{path}` is not a git repository: {message}")]
    NotARepository {
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// An object could not be read or decoded.
    #[error("failed to read object `{id}`: {message}")]
    Object {
        /// The object id.
        id: String,
        /// Why.
        message: String,
    },
    /// A limit was exceeded while walking trees.
    #[error("{0}")]
    LimitExceeded(LimitError),
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotARepository { .. } => ErrorKind::NotFound,
            Error::Object { .. } => ErrorKind::Git,
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
        }
    }
}

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory.
    Tree,
    /// A regular file.
    Blob,
    /// An executable file.
    Executable,
    /// A symbolic link (the blob holds the link text).
    Link,
    /// A submodule commit (gitlink).
    Gitlink,
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// The entry name; non-UTF-8 names are kept lossily and flagged.
    pub name: String,
    /// Whether the raw name was valid UTF-8.
    pub utf8: bool,
    /// What it is.
    pub kind: NodeKind,
    /// The object id (blob, tree, or submodule commit).
    pub id: ObjectId,
}

/// A commit resolved in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The commit id.
    pub id: ObjectId,
    /// Its root tree.
    pub tree: ObjectId,
}

/// Outcome of looking up a recorded commit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitLookup {
    /// Found, and it is a commit.
    Found(CommitInfo),
    /// No object with that id.
    Missing,
    /// An object with that id exists but is not a commit (`kind` is `tree`, `blob` or `tag`).
    NotACommit {
        /// The object's kind.
        kind: String,
    },
}

/// A read-only, isolated view of a git repository, with a tree cache.
pub struct Repo {
    inner: gix::Repository,
    path: PathBuf,
    trees: std::cell::RefCell<HashMap<ObjectId, Arc<Vec<TreeEntry>>>>,
    limits: Limits,
    entries_read: std::cell::Cell<u64>,
    invalid: std::cell::RefCell<Vec<String>>,
    warnings: std::cell::RefCell<Vec<String>>,
    /// When set, the only refs [`Repo::peel_ref`], [`Repo::ref_time`] and [`Repo::refs`] see.
    ref_view: Option<Vec<(String, ObjectId)>>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Repo {
    /// Open a local repository (bare, or a work tree's `.git`) with isolated options.
    pub fn open(path: &Path, limits: &Limits) -> Result<Repo, Error> {
        let opts = gix::open::Options::isolated()
            .config_overrides([format!(
                "gitoxide.objects.allocLimit={}",
                limits.git_alloc_limit
            )])
            .strict_config(false);
        let mut repo = gix::open_opts(path, opts).map_err(|e| Error::NotARepository {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        // No object cache: decoded trees are cached by `tree` already, blobs are read once per
        // comparison, and gix's capped cache copies every object it is offered and keeps the
        // buffers of evicted or refused ones (a large blob stays allocated). Without it the
        // peak memory of an assisted search stays within its budget (docs/ASSISTED-SWEEP.md,
        // ring 0.16.10).
        repo.object_cache_size(None);
        Ok(Repo {
            inner: repo,
            path: path.to_owned(),
            trees: std::cell::RefCell::default(),
            limits: limits.clone(),
            entries_read: std::cell::Cell::new(0),
            invalid: std::cell::RefCell::default(),
            warnings: std::cell::RefCell::default(),
            ref_view: None,
        })
    }

    /// Restrict the refs this handle sees to `refs` (`(full ref name, target)`): a repository in
    /// the shared cache holds refs other verifications fetched, and a version's findings must
    /// not depend on them (nor on the order the versions ran in).
    #[must_use]
    pub fn with_ref_view(mut self, refs: Vec<(String, ObjectId)>) -> Repo {
        self.ref_view = Some(refs);
        self
    }

    /// The target of the full ref `name` in the view (`None` without a view).
    fn view_target(&self, name: &str) -> Option<ObjectId> {
        let view = self.ref_view.as_ref()?;
        view.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    /// The commit `id` peels to (through annotated tags).
    fn peel_id(&self, id: ObjectId) -> Option<ObjectId> {
        let obj = self.inner.find_object(id).ok()?;
        obj.peel_to_commit().ok().map(|c| c.id)
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying gix repository.
    pub fn gix(&self) -> &gix::Repository {
        &self.inner
    }

    /// The hash length in hex digits (40 for SHA-1 repositories).
    pub fn hex_len(&self) -> usize {
        self.inner.object_hash().len_in_hex()
    }

    fn obj_err(id: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
        Error::Object {
            id: id.to_string(),
            message: e.to_string(),
        }
    }

    /// Look up `hex` (already validated as lowercase hex) as a commit.
    pub fn lookup_commit(&self, hex: &str) -> Result<CommitLookup, Error> {
        if hex.len() != self.hex_len() {
            return Ok(CommitLookup::Missing);
        }
        let Ok(id) = ObjectId::from_hex(hex.as_bytes()) else {
            return Ok(CommitLookup::Missing);
        };
        let Some(obj) = self
            .inner
            .try_find_object(id)
            .map_err(|e| Self::obj_err(id, e))?
        else {
            return Ok(CommitLookup::Missing);
        };
        if obj.kind != gix::object::Kind::Commit {
            return Ok(CommitLookup::NotACommit {
                kind: obj.kind.to_string(),
            });
        }
        let commit = obj.into_commit();
        let tree = commit.tree_id().map_err(|e| Self::obj_err(id, e))?.detach();
        Ok(CommitLookup::Found(CommitInfo { id, tree }))
    }

    /// Whether an object exists.
    pub fn has_object(&self, id: ObjectId) -> bool {
        self.inner.has_object(id)
    }

    /// Start a new tree-walk budget: every [`Repo::tree`] call after this (cached or not) counts
    /// its entries towards [`Limits::max_tree_entries`], so a tree that reuses one subtree many
    /// times (a git bomb) cannot make a walk visit more than the limit.
    pub fn reset_walk_budget(&self) {
        self.entries_read.set(0);
    }

    fn spend(&self, n: usize) -> Result<(), Error> {
        let n = self.entries_read.get() + n as u64;
        self.entries_read.set(n);
        if n > self.limits.max_tree_entries {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_tree_entries",
                max: self.limits.max_tree_entries,
                value: n,
            }));
        }
        Ok(())
    }

    /// Read and decode a tree (cached). Every call counts the tree's entries towards
    /// [`Limits::max_tree_entries`] (see [`Repo::reset_walk_budget`]). Entries whose names git's
    /// fsck refuses (`""`, `.`, `..`, `.git` in any case, names with `/` or NUL) are dropped and
    /// recorded (see [`Repo::invalid_entries`]); nothing would check them out.
    pub fn tree(&self, id: ObjectId) -> Result<Arc<Vec<TreeEntry>>, Error> {
        let cached = self.trees.borrow().get(&id).cloned();
        if let Some(t) = cached {
            self.spend(t.len())?;
            return Ok(t);
        }
        let obj = self
            .inner
            .find_object(id)
            .map_err(|e| Self::obj_err(id, e))?;
        if obj.kind != gix::object::Kind::Tree {
            return Err(Self::obj_err(
                id,
                format!("expected a tree, found a {}", obj.kind),
            ));
        }
        for (fsck_id, name) in fsck_warnings(&obj.data, id.kind().len_in_bytes()) {
            self.warnings.borrow_mut().push(format!(
                "`{}` in tree `{id}` ({fsck_id})",
                crate::text::escape(&name)
            ));
        }
        let tree = obj.into_tree();
        let decoded = tree.decode().map_err(|e| Self::obj_err(id, e))?;
        let mut out = Vec::with_capacity(decoded.entries.len());
        let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
        for e in &decoded.entries {
            use gix::object::tree::EntryKind as K;
            let kind = match e.mode.kind() {
                K::Tree => NodeKind::Tree,
                K::Blob => NodeKind::Blob,
                K::BlobExecutable => NodeKind::Executable,
                K::Link => NodeKind::Link,
                K::Commit => NodeKind::Gitlink,
            };
            let raw: &[u8] = e.filename.as_ref();
            let problem = invalid_name(raw).or_else(|| {
                // The first of two entries with one name is kept; git's checkout would
                // disagree with itself across versions, so the duplicate blocks `match`.
                (!seen.insert(raw)).then_some("DUPLICATE_ENTRIES")
            });
            if let Some(fsck_id) = problem {
                self.invalid.borrow_mut().push(format!(
                    "`{}` in tree `{id}` ({fsck_id})",
                    crate::text::escape(raw)
                ));
                continue;
            }
            let (name, utf8) = match std::str::from_utf8(raw) {
                Ok(s) => (s.to_owned(), true),
                Err(_) => (String::from_utf8_lossy(raw).into_owned(), false),
            };
            out.push(TreeEntry {
                name,
                utf8,
                kind,
                id: e.oid.to_owned(),
            });
        }
        self.spend(out.len())?;
        // Sort by name (git orders trees as if directories had a trailing `/`; we want plain
        // byte order for deterministic walks).
        out.sort_by(|a, b| a.name.cmp(&b.name));
        let out = Arc::new(out);
        self.trees.borrow_mut().insert(id, out.clone());
        Ok(out)
    }

    /// Tree entries dropped because git refuses them (fsck `HAS_DOT`, `HAS_DOTDOT`,
    /// `HAS_DOTGIT` incl. the HFS and NTFS spellings, `EMPTY_NAME`, `FULL_PATHNAME`,
    /// `DUPLICATE_ENTRIES`, and backslashes, which `core.protectNTFS` — on by default — refuses
    /// to check out), described with the fsck id, in the order met.
    pub fn invalid_entries(&self) -> Vec<String> {
        self.invalid.borrow().clone()
    }

    /// Tree oddities git accepts with a warning (fsck `ZERO_PADDED_FILEMODE`, `BAD_FILEMODE`,
    /// `TREE_NOT_SORTED`): the entries are kept, the report notes them.
    pub fn tree_warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }

    /// The size of a blob, from its header (no content read).
    pub fn blob_size(&self, id: ObjectId) -> Result<u64, Error> {
        let h = self
            .inner
            .find_header(id)
            .map_err(|e| Self::obj_err(id, e))?;
        Ok(h.size())
    }

    /// Read a blob (bounded by `max` bytes; larger blobs are an error naming the limit).
    pub fn blob(&self, id: ObjectId, max: u64) -> Result<Vec<u8>, Error> {
        let size = self.blob_size(id)?;
        if size > max {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_blob_bytes",
                max,
                value: size,
            }));
        }
        let obj = self
            .inner
            .find_object(id)
            .map_err(|e| Self::obj_err(id, e))?;
        if obj.kind != gix::object::Kind::Blob {
            return Err(Self::obj_err(
                id,
                format!("expected a blob, found a {}", obj.kind),
            ));
        }
        Ok(obj.detach().data)
    }

    /// The commit a full ref name (e.g. `refs/tags/v1.0.0`) peels to, if it exists.
    pub fn peel_ref(&self, name: &str) -> Option<ObjectId> {
        if self.ref_view.is_some() {
            return self.peel_id(self.view_target(name)?);
        }
        let mut r = self.inner.try_find_reference(name).ok()??;
        r.peel_to_commit().ok().map(|c| c.id)
    }

    /// When a ref was made, in seconds since the epoch: the tagger time of an annotated tag,
    /// else the committer time of the commit it points to.
    pub fn ref_time(&self, name: &str) -> Option<i64> {
        let id = if self.ref_view.is_some() {
            self.view_target(name)?
        } else {
            let r = self.inner.try_find_reference(name).ok()??;
            r.target().try_id()?.to_owned()
        };
        let obj = self.inner.find_object(id).ok()?;
        match obj.kind {
            gix::object::Kind::Tag => {
                let tag = obj.into_tag();
                let seconds = tag.tagger().ok().flatten().map(|t| t.seconds());
                match seconds {
                    Some(s) => Some(s),
                    None => tag.target_id().ok().and_then(|t| {
                        self.inner
                            .find_commit(t)
                            .ok()
                            .and_then(|c| c.time().ok())
                            .map(|t| t.seconds)
                    }),
                }
            }
            gix::object::Kind::Commit => obj.into_commit().time().ok().map(|t| t.seconds),
            _ => None,
        }
    }

    /// All tags and branches, peeled to commits: `(full ref name, commit id)`, sorted by name.
    /// Refs that do not peel to a commit are skipped.
    pub fn refs(&self) -> Result<Vec<(String, ObjectId)>, Error> {
        if let Some(view) = &self.ref_view {
            let mut out: Vec<(String, ObjectId)> = view
                .iter()
                .filter_map(|(name, id)| Some((name.clone(), self.peel_id(*id)?)))
                .collect();
            out.sort();
            out.dedup();
            return Ok(out);
        }
        let platform = self
            .inner
            .references()
            .map_err(|e| Self::obj_err("refs", e))?;
        let mut out = Vec::new();
        for r in platform.all().map_err(|e| Self::obj_err("refs", e))? {
            let Ok(mut r) = r else { continue };
            let name = r.name().as_bstr().to_string();
            if let Ok(c) = r.peel_to_commit() {
                out.push((name, c.id));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// The fsck id of a tree entry name git refuses, if any.
pub(crate) fn invalid_name(raw: &[u8]) -> Option<&'static str> {
    if raw.is_empty() {
        return Some("EMPTY_NAME");
    }
    if raw == b"." {
        return Some("HAS_DOT");
    }
    if raw == b".." {
        return Some("HAS_DOTDOT");
    }
    if raw.contains(&b'/') || raw.contains(&0) {
        return Some("FULL_PATHNAME");
    }
    if is_hfs_dotgit(raw) || is_ntfs_dotgit(raw) {
        return Some("HAS_DOTGIT");
    }
    if raw.contains(&b'\\') {
        return Some("HAS_BACKSLASH");
    }
    None
}

/// `.git` once the code points HFS+ ignores are removed, case-insensitively (git's
/// `is_hfs_dotgit`).
fn is_hfs_dotgit(raw: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(raw) else {
        return false;
    };
    let kept: String = s
        .chars()
        .filter(
            |c| !matches!(*c as u32, 0x200c..=0x200f | 0x202a..=0x202e | 0x206a..=0x206f | 0xfeff),
        )
        .collect();
    kept.eq_ignore_ascii_case(".git")
}

/// `.git` or `git~1` followed only by spaces and dots up to the end, a `:` (an NTFS stream) or a
/// backslash, case-insensitively (git's `is_ntfs_dotgit`).
fn is_ntfs_dotgit(raw: &[u8]) -> bool {
    let end = raw
        .iter()
        .position(|b| matches!(b, b':' | b'\\' | b'/'))
        .unwrap_or(raw.len());
    let head = &raw[..end];
    [&b".git"[..], b"git~1"].iter().any(|stem| {
        head.len() >= stem.len()
            && head[..stem.len()].eq_ignore_ascii_case(stem)
            && head[stem.len()..].iter().all(|b| matches!(b, b' ' | b'.'))
    })
}

/// fsck warnings of a raw tree: zero-padded or unusual modes, entries out of git's order.
fn fsck_warnings(raw: &[u8], hash_len: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = raw;
    let mut prev: Option<(Vec<u8>, bool)> = None;
    while !rest.is_empty() {
        let Some(sp) = rest.iter().position(|b| *b == b' ') else {
            break;
        };
        let mode = &rest[..sp];
        let Some(nul) = rest[sp + 1..].iter().position(|b| *b == 0) else {
            break;
        };
        let name = &rest[sp + 1..sp + 1 + nul];
        let next = sp + 1 + nul + 1 + hash_len;
        if next > rest.len() {
            break;
        }
        rest = &rest[next..];
        let is_tree = mode == b"40000" || mode == b"040000";
        if mode.first() == Some(&b'0') {
            out.push(("ZERO_PADDED_FILEMODE", name.to_vec()));
        } else if !matches!(
            mode,
            b"100644" | b"100755" | b"120000" | b"40000" | b"160000"
        ) {
            out.push(("BAD_FILEMODE", name.to_vec()));
        }
        if let Some((p, p_tree)) = &prev {
            // git's order: names compared as if trees ended in `/`.
            let key = |n: &[u8], t: bool| {
                let mut k = n.to_vec();
                if t {
                    k.push(b'/');
                }
                k
            };
            if key(p, *p_tree) > key(name, is_tree) {
                out.push(("TREE_NOT_SORTED", name.to_vec()));
            }
        }
        prev = Some((name.to_vec(), is_tree));
    }
    out
}
