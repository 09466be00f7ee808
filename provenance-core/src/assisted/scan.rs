//! The history scan of the assisted search: one streaming walk over the commits reachable from
//! the branches and tags that finds every commit whose manifest at the package path has this
//! crate's name and version, and scores every commit by how many published files its package
//! tree holds (blob ids only, line-ending aware).
//!
//! Each tree is read once per published directory it stands for and its score memoized by tree
//! id, so consecutive commits, which share almost every subtree, cost only the trees that
//! changed; no tree listing is kept (the repository's tree cache is not used), and the work is
//! bounded by the number of tree entries examined, not by the number of candidates.

use std::collections::HashMap;

use gix::ObjectId;

use crate::archive::CrateArchive;
use crate::compare;
use crate::limits::Limits;
use crate::metadata;
use crate::repo::{self, CommitInfo, CommitLookup, Repo};

/// The published files as a tree of directories: node 0 is the package directory.
#[derive(Debug, Default)]
pub(crate) struct Target {
    nodes: Vec<Node>,
    /// How many published files take part in scoring.
    pub(crate) files: u32,
}

#[derive(Debug, Default)]
struct Node {
    dirs: HashMap<String, usize>,
    /// File name → the blob ids that count as equal (as published, CRLF → LF, LF → CRLF).
    files: HashMap<String, Vec<ObjectId>>,
}

/// CRLF → LF (`to_lf`) or LF → CRLF; `None` when the text has nothing to convert or is not text.
fn convert(data: &[u8], to_lf: bool) -> Option<Vec<u8>> {
    if data.contains(&0) || std::str::from_utf8(data).is_err() {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    let out = if to_lf {
        text.replace("\r\n", "\n")
    } else {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    };
    (out.as_bytes() != data).then(|| out.into_bytes())
}

/// Whether the published text files were written with CRLF line endings throughout (a crate
/// packaged from a Windows checkout with `core.autocrlf`): at least two text files, all with
/// CRLF line ends and no bare LF. Returns the number of such files.
pub(crate) fn crlf_published(archive: &CrateArchive) -> Option<usize> {
    let mut crlf = 0;
    for (path, f) in &archive.files {
        if compare::GENERATED.contains(&path.as_str())
            || !f.retained()
            || f.data.contains(&0)
            || std::str::from_utf8(&f.data).is_err()
        {
            continue;
        }
        let lf = bytecount(&f.data, b'\n');
        if lf == 0 {
            continue;
        }
        let crlf_here = f.data.windows(2).filter(|w| w == b"\r\n").count();
        if crlf_here != lf {
            return None;
        }
        crlf += 1;
    }
    (crlf >= 2).then_some(crlf)
}

fn bytecount(data: &[u8], b: u8) -> usize {
    memchr_count(data, b)
}

/// Occurrences of `b` in `data`.
fn memchr_count(data: &[u8], b: u8) -> usize {
    data.split(|&x| x == b).count() - 1
}

impl Target {
    /// The published files (all but the generated ones and `Cargo.toml.orig`).
    pub(crate) fn new(archive: &CrateArchive, kind: gix::hash::Kind) -> Target {
        let mut t = Target {
            nodes: vec![Node::default()],
            files: 0,
        };
        for (path, f) in &archive.files {
            if compare::GENERATED.contains(&path.as_str()) || path == "Cargo.toml.orig" {
                continue;
            }
            let Some(id) = f.blob_id(kind) else { continue };
            let mut ids = vec![id];
            if f.retained() {
                for to_lf in [true, false] {
                    if let Some(other) = convert(&f.data, to_lf)
                        .and_then(|d| crate::ids::blob_id(kind, &d))
                        .filter(|o| !ids.contains(o))
                    {
                        ids.push(other);
                    }
                }
            }
            let mut parts: Vec<&str> = path.split('/').collect();
            let Some(name) = parts.pop() else { continue };
            let mut node = 0;
            for dir in parts {
                let next = t.nodes.len();
                node = *t.nodes[node].dirs.entry(dir.to_owned()).or_insert(next);
                if node == next {
                    t.nodes.push(Node::default());
                }
            }
            t.nodes[node].files.insert(name.to_owned(), ids);
            t.files += 1;
        }
        t
    }
}

/// A commit of the walk, scored.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    pub(crate) commit: CommitInfo,
    /// Published files whose blob (up to line endings) is at the commit.
    pub(crate) score: u32,
    /// Position in the walk (0 = first walked, the newest).
    pub(crate) order: usize,
    /// The package directory's tree (commits that share it give the same evaluation).
    pub(crate) package: ObjectId,
}

/// What the scan found.
#[derive(Debug, Default)]
pub(crate) struct ScanResult {
    /// Every commit whose package manifest has the version, in walk order.
    pub(crate) version_commits: Vec<Scored>,
    /// The best-scoring commits (at most `keep`), best first.
    pub(crate) closest: Vec<Scored>,
    /// Commits walked.
    pub(crate) walked: u64,
    /// Tree entries examined.
    pub(crate) entries: u64,
    /// The walk stopped at a budget (commits or entries) before the end of the history.
    pub(crate) truncated: bool,
}

/// Budgets of one scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Commits walked at most.
    pub(crate) commits: u64,
    /// Tree entries examined at most (over the whole walk).
    pub(crate) entries: u64,
}

/// Scans the history; see the module docs.
pub(crate) struct Scanner<'a> {
    repo: &'a Repo,
    target: &'a Target,
    name: &'a str,
    version: &'a str,
    limits: &'a Limits,
    pkg: Vec<String>,
    memo: HashMap<(ObjectId, usize), u32>,
    manifests: HashMap<ObjectId, (bool, bool)>,
    entries: u64,
    budget: Budget,
}

/// The budget ran out.
struct OutOfBudget;

/// One step of the scan: a value, the budget ran out, or the repository failed.
type Step<T> = Result<Result<T, OutOfBudget>, repo::Error>;

/// One commit scanned: score, the manifest has the name, and the version, the package tree.
type Scan1 = (u32, bool, bool, ObjectId);

impl<'a> Scanner<'a> {
    /// A scanner for the package at `pkg` (`""` = the repository root).
    pub(crate) fn new(
        repo: &'a Repo,
        target: &'a Target,
        krate: (&'a str, &'a str),
        pkg: &str,
        limits: &'a Limits,
        budget: Budget,
    ) -> Scanner<'a> {
        Scanner {
            repo,
            target,
            name: krate.0,
            version: krate.1,
            limits,
            pkg: pkg
                .split('/')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect(),
            memo: HashMap::new(),
            manifests: HashMap::new(),
            entries: 0,
            budget,
        }
    }

    /// Entries of tree `id` (not cached), counted against the budget.
    fn entries_of(&mut self, id: ObjectId) -> Step<Vec<Entry>> {
        let obj = self
            .repo
            .gix()
            .find_object(id)
            .map_err(|e| obj_err(id, e))?;
        if obj.kind != gix::object::Kind::Tree {
            return Ok(Ok(Vec::new()));
        }
        let tree = obj.into_tree();
        let decoded = tree.decode().map_err(|e| obj_err(id, e))?;
        self.entries += decoded.entries.len() as u64;
        if self.entries > self.budget.entries {
            return Ok(Err(OutOfBudget));
        }
        Ok(Ok(decoded
            .entries
            .iter()
            .filter_map(|e| {
                let name = std::str::from_utf8(e.filename.as_ref()).ok()?.to_owned();
                Some(Entry {
                    name,
                    tree: e.mode.is_tree(),
                    blob: e.mode.is_blob() || e.mode.is_executable() || e.mode.is_link(),
                    id: e.oid.to_owned(),
                })
            })
            .collect()))
    }

    /// The score of tree `id` standing for published directory `node` (memoized).
    fn score(&mut self, id: ObjectId, node: usize) -> Step<u32> {
        if let Some(&s) = self.memo.get(&(id, node)) {
            return Ok(Ok(s));
        }
        let entries = match self.entries_of(id)? {
            Ok(e) => e,
            Err(o) => return Ok(Err(o)),
        };
        let target = self.target;
        let mut score = 0;
        for e in entries {
            if e.tree {
                if let Some(&child) = target.nodes[node].dirs.get(&e.name) {
                    match self.score(e.id, child)? {
                        Ok(s) => score += s,
                        Err(o) => return Ok(Err(o)),
                    }
                }
            } else if e.blob
                && target.nodes[node]
                    .files
                    .get(&e.name)
                    .is_some_and(|ids| ids.contains(&e.id))
            {
                score += 1;
            }
        }
        self.memo.insert((id, node), score);
        Ok(Ok(score))
    }

    /// The package tree of a commit (`None`: no such directory).
    fn package_tree(&mut self, root: ObjectId) -> Step<Option<ObjectId>> {
        let mut cur = root;
        for c in self.pkg.clone() {
            let entries = match self.entries_of(cur)? {
                Ok(e) => e,
                Err(o) => return Ok(Err(o)),
            };
            match entries.into_iter().find(|e| e.name == c && e.tree) {
                Some(e) => cur = e.id,
                None => return Ok(Ok(None)),
            }
        }
        Ok(Ok(Some(cur)))
    }

    /// Whether the manifest blob has this crate's name, and its version (memoized by blob id).
    fn manifest_matches(&mut self, blob: ObjectId) -> (bool, bool) {
        if let Some(&v) = self.manifests.get(&blob) {
            return v;
        }
        let m = self
            .repo
            .blob(blob, self.limits.max_manifest_bytes)
            .ok()
            .and_then(|b| metadata::parse_manifest(&b, "Cargo.toml", self.limits).ok());
        let name = m
            .as_ref()
            .is_some_and(|m| m.name.as_deref() == Some(self.name));
        let version =
            name && m.is_some_and(|m| m.version.value().is_some_and(|v| v == self.version));
        self.manifests.insert(blob, (name, version));
        (name, version)
    }

    /// Score one commit: `Ok(None)` when the package directory or its manifest is absent.
    fn commit(&mut self, commit: &CommitInfo) -> Step<Option<Scan1>> {
        let pkg_tree = match self.package_tree(commit.tree)? {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(Ok(None)),
            Err(o) => return Ok(Err(o)),
        };
        let entries = match self.entries_of(pkg_tree)? {
            Ok(e) => e,
            Err(o) => return Ok(Err(o)),
        };
        let Some(manifest) = entries.iter().find(|e| e.name == "Cargo.toml" && e.blob) else {
            return Ok(Ok(None));
        };
        let (has_name, has_version) = self.manifest_matches(manifest.id);
        match self.score(pkg_tree, 0)? {
            Ok(s) => Ok(Ok(Some((s, has_name, has_version, pkg_tree)))),
            Err(o) => Ok(Err(o)),
        }
    }

    /// Walk the history from `tips`, keeping every version commit and the `keep` best-scoring
    /// commits. `check` is called once per commit (interruption).
    pub(crate) fn scan(
        mut self,
        tips: Vec<ObjectId>,
        keep: usize,
        mut check: impl FnMut() -> Result<(), crate::request::Error>,
    ) -> Result<ScanResult, crate::request::Error> {
        let mut out = ScanResult::default();
        if tips.is_empty() {
            return Ok(out);
        }
        let walk = self
            .repo
            .gix()
            .rev_walk(tips)
            .all()
            .map_err(|e| obj_err("history", e))?;
        let mut closest: Vec<Scored> = Vec::new();
        for (order, info) in walk.enumerate() {
            if order as u64 >= self.budget.commits {
                out.truncated = true;
                break;
            }
            check()?;
            let Ok(info) = info else { break };
            let CommitLookup::Found(commit) = self.repo.lookup_commit(&info.id.to_string())? else {
                continue;
            };
            out.walked += 1;
            let (score, has_name, has_version, package) = match self.commit(&commit)? {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(OutOfBudget) => {
                    out.truncated = true;
                    break;
                }
            };
            let scored = Scored {
                commit,
                score,
                order,
                package,
            };
            if has_version {
                out.version_commits.push(scored.clone());
            }
            if !has_name {
                // Another package at this path: not a candidate.
                continue;
            }
            // Keep the `keep` best: highest score, then the newest.
            let pos = closest
                .iter()
                .position(|c| c.score < score)
                .unwrap_or(closest.len());
            if pos < keep {
                closest.insert(pos, scored);
                closest.truncate(keep);
            }
        }
        out.closest = closest;
        out.entries = self.entries;
        Ok(out)
    }
}

struct Entry {
    name: String,
    tree: bool,
    blob: bool,
    id: ObjectId,
}

fn obj_err(id: impl std::fmt::Display, e: impl std::fmt::Display) -> repo::Error {
    repo::Error::Object {
        id: id.to_string(),
        message: e.to_string(),
    }
}
