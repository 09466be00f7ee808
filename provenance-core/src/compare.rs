//! Compare a parsed `.crate` with a [`Selection`]: the fast path compares the git blob id of
//! every published file (SHA-1 of `blob <len>\0<bytes>`, with collision detection) with the
//! tree entry's id; a blob is read from the repository only when the ids differ, to produce a
//! unified diff (text) or sizes and SHA-256 (binary).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::Digest;

use crate::archive::{Anomaly, CrateArchive};
use crate::error::ErrorKind;
use crate::limits::Limits;
use crate::progress::timing;
use crate::rebuild::{Content, Expected, Selection};
use crate::repo::Repo;
use crate::report::{Difference, DifferenceKind, FileCounts, FileDigest, Finding, Severity};

pub use crate::ids::{blob_id, hex, sha1_blob_id};

/// Files cargo generates; their bytes are never compared (shared/VERDICTS.md).
pub const GENERATED: &[&str] = &["Cargo.toml", ".cargo_vcs_info.json", "Cargo.lock"];

/// Errors of the compare stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a blob for a diff failed.
    #[error(transparent)]
    Repo(#[from] crate::repo::Error),
    /// Hashing failed (a SHA-1 collision attack was detected).
    #[error("sha-1 collision detected while hashing `{path}`")]
    Collision {
        /// The package-relative path.
        path: String,
    },
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Repo(e) => e.kind(),
            Error::Collision { .. } => ErrorKind::InvalidArchive,
        }
    }
}

/// How many differing text files get a full unified diff in one comparison (in path order);
/// the others are summarised (sizes + SHA-256 of both sides) unless [`Options::all_diffs`].
/// A crate whose every file differs (e.g. CRLF throughout) would otherwise cost a line diff per
/// file: seconds, and a report nobody reads to the end.
pub const FULL_DIFFS: usize = 20;

/// Options for [`compare`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// Limits (text diff size, blob size).
    pub limits: Limits,
    /// A unified diff for every differing text file, not only the first [`FULL_DIFFS`].
    pub all_diffs: bool,
    /// Only say which files differ: no diff, no digests, no blob read (a content difference
    /// is found from blob ids alone). For comparisons that rank or explain, not for reports.
    pub ids_only: bool,
}

/// The `diff` text of a difference whose sides are equal once CRLF line endings are read as LF:
/// no line diff (every line would differ).
pub const LINE_ENDINGS_ONLY: &str = "files differ only in line endings (crlf / lf); no line diff";

/// Whether `a` and `b` are both text, differ, and are equal once every `\r\n` is read as `\n`
/// (the `line_endings` category's test).
pub fn line_endings_only(a: &[u8], b: &[u8]) -> bool {
    /// The length of the common prefix, 16 bytes at a time while they are equal.
    fn common_prefix(a: &[u8], b: &[u8]) -> usize {
        let n = a.len().min(b.len());
        let mut i = 0;
        while i + 16 <= n && a[i..i + 16] == b[i..i + 16] {
            i += 16;
        }
        while i < n && a[i] == b[i] {
            i += 1;
        }
        i
    }
    if a == b || !is_text(a) || !is_text(b) {
        return false;
    }
    let (mut a, mut b) = (a, b);
    let mut prev = 0u8;
    loop {
        let k = common_prefix(a, b);
        if k > 0 {
            prev = a[k - 1];
        }
        (a, b) = (&a[k..], &b[k..]);
        // After a shared `\r`, `\r\n` against `\n` means `\r\r\n` (→ `\r\n`) against
        // `\r\n` (→ `\n`): a real difference.
        match (a, b) {
            ([], []) => return true,
            ([b'\r', b'\n', ..], [b'\n', ..]) if prev != b'\r' => a = &a[1..],
            ([b'\n', ..], [b'\r', b'\n', ..]) if prev != b'\r' => b = &b[1..],
            _ => return false,
        }
    }
}

/// The result of [`compare`].
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// File counts.
    pub files: FileCounts,
    /// Differences, sorted by path then kind. Their `category` and `severity` are left `None`:
    /// classifying them is the next stage's work
    /// ([`classify::categorize_all`](crate::classify::categorize_all)).
    pub differences: Vec<Difference>,
    /// Findings from the archive and the comparison.
    pub findings: Vec<Finding>,
}

fn digest(data: &[u8]) -> FileDigest {
    FileDigest {
        size: data.len() as u64,
        sha256: hex(&sha2::Sha256::digest(data)),
    }
}

fn is_text(data: &[u8]) -> bool {
    !data[..data.len().min(8000)].contains(&0) && std::str::from_utf8(data).is_ok()
}

/// A unified diff (repository → published), or a one-line description for binary content.
pub fn render_diff(path: &str, repo: &[u8], published: &[u8], limits: &Limits) -> String {
    let too_big = repo.len() as u64 > limits.max_text_diff_bytes
        || published.len() as u64 > limits.max_text_diff_bytes;
    if too_big || !is_text(repo) || !is_text(published) {
        return format!(
            "binary files differ: repository {} bytes, published {} bytes",
            repo.len(),
            published.len()
        );
    }
    let (a, b) = (
        std::str::from_utf8(repo).unwrap_or_default(),
        std::str::from_utf8(published).unwrap_or_default(),
    );
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(std::time::Duration::from_secs(5))
        .diff_lines(a, b);
    let mut text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    // Terminal- and reader-safe: bidi controls, zero-width and control characters (other than
    // newline and tab) are shown as `\u{..}` escapes, never verbatim.
    let unsafe_char = |c: char| {
        crate::text::is_bidi_or_invisible(c) || (c.is_control() && c != '\n' && c != '\t')
    };
    if text.chars().any(unsafe_char) {
        text = text
            .chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
    }
    let max = limits.max_diff_output_bytes as usize;
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n... diff truncated\n");
    }
    if text.is_empty() {
        // Same lines, different bytes: only line endings or a final newline differ.
        "files differ only in line endings or a final newline".clone_into(&mut text);
    }
    text
}

fn under(path: &str, dir: &str) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

/// The files cargo would package, keyed by the name they have in the archive: before cargo 1.19
/// (no `Cargo.toml.orig` in the crate) the manifest was archived verbatim as `Cargo.toml`.
pub fn expected_files(archive: &CrateArchive, selection: &Selection) -> BTreeMap<String, Expected> {
    let mut expected = selection.files.clone();
    if !archive.files.contains_key("Cargo.toml.orig")
        && let Some(e) = expected.remove("Cargo.toml.orig")
    {
        expected.insert("Cargo.toml".into(), e);
    }
    expected
}

/// Compare the published archive with what cargo would have packaged.
pub fn compare(
    archive: &CrateArchive,
    selection: &Selection,
    repo: &Repo,
    options: &Options,
) -> Result<Comparison, Error> {
    let limits = &options.limits;
    let mut out = Comparison::default();
    let has_orig = archive.files.contains_key("Cargo.toml.orig");

    // Expected files, keyed by the name they have in the archive.
    let expected = expected_files(archive, selection);
    let mut generated: BTreeSet<&str> = GENERATED.iter().copied().collect();
    if !has_orig {
        generated.remove("Cargo.toml");
        out.findings.push(Finding::new(
            "orig_manifest_missing",
            Severity::Low,
            "the crate has no `Cargo.toml.orig`; its `Cargo.toml` is compared with the repository's manifest (cargo < 1.19)",
        ));
    }
    let explained_dirs = directory_links(archive, &expected, &mut out.differences);
    let non_regular: BTreeMap<&str, &Anomaly> = archive
        .anomalies
        .iter()
        .filter_map(|a| match a {
            Anomaly::NonRegular { path, .. } => Some((path.as_str(), a)),
            _ => None,
        })
        .collect();

    let kind = repo.gix().object_hash();
    // The blob ids of the files compared with a repository blob.
    let to_hash = archive.files.iter().filter(|(path, _)| {
        !generated.contains(path.as_str())
            && !explained_dirs.contains(*path)
            && expected
                .get(*path)
                .is_some_and(|e| matches!(e.content, Content::Blob { .. }))
    });
    let to_hash: Vec<_> = to_hash.map(|(p, f)| (p.as_str(), f)).collect();
    let ids = published_ids(&to_hash, kind);
    let mut diffs = DiffBudget {
        left: if options.all_diffs {
            usize::MAX
        } else {
            FULL_DIFFS
        },
        omitted: 0,
    };
    for (path, file) in &archive.files {
        out.files.published += 1;
        if generated.contains(path.as_str()) {
            continue;
        }
        out.files.compared += 1;
        if explained_dirs.contains(path) {
            continue;
        }
        let Some(exp) = expected.get(path) else {
            let in_sub = selection
                .missing_submodules
                .iter()
                .any(|s| under(path, &s.path));
            out.differences.push(Difference {
                path: path.clone(),
                kind: if in_sub {
                    DifferenceKind::InSubmodule
                } else {
                    DifferenceKind::OnlyInPublished
                },
                diff: None,
                published: (!options.ids_only).then(|| file.digest()),
                repo: None,
                repo_path: None,
                category: None,
                severity: None,
            });
            continue;
        };
        // (`None`: a SHA-1 collision was detected.)
        let id = match ids.get(path.as_str()) {
            Some(id) => *id,
            None => file.blob_id(kind),
        };
        match compare_file(path, file, id, exp, selection, repo, options, &mut diffs)? {
            Some(d) => out.differences.push(d),
            None if matches!(exp.content, Content::Blob { .. }) => out.files.equal += 1,
            None => {}
        }
    }
    non_regular_differences(archive, &expected, &non_regular, &mut out.differences);
    missing_differences(
        archive,
        selection,
        &expected,
        &non_regular,
        &explained_dirs,
        repo,
        limits,
        &mut out.differences,
    )?;
    out.findings.extend(findings(archive, &out.differences));
    out.findings.extend(diffs.finding());
    out.differences
        .sort_by(|a, b| (&a.path, a.kind).cmp(&(&b.path, b.kind)));
    out.differences
        .dedup_by(|a, b| a.path == b.path && a.kind == b.kind);
    Ok(out)
}

/// Directory symlinks published as their link text (core.symlinks=false): a `symlink_text`
/// difference each. Returns the link paths so explained.
fn directory_links(
    archive: &CrateArchive,
    expected: &BTreeMap<String, Expected>,
    differences: &mut Vec<Difference>,
) -> BTreeSet<String> {
    let mut dir_links: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for e in expected.values() {
        if let Some(l) = &e.link
            && l.directory
        {
            dir_links.insert(l.link_path.clone(), l.text.clone());
        }
    }
    let mut explained_dirs: BTreeSet<String> = BTreeSet::new();
    for (lp, text) in &dir_links {
        if let Some(f) = archive.files.get(lp)
            && f.data == *text
        {
            explained_dirs.insert(lp.clone());
            differences.push(Difference {
                path: lp.clone(),
                kind: DifferenceKind::SymlinkText,
                diff: Some(format!(
                    "git stores a symlink to directory `{}`; the crate holds the link text",
                    crate::text::escape(text)
                )),
                published: Some(f.digest()),
                repo: None,
                repo_path: None,
                category: None,
                severity: None,
            });
        }
    }
    explained_dirs
}

/// Below this many bytes to hash, one thread hashes them all: a second thread saves at most
/// half of ~2.5 ms here, and on a busy machine waiting for it to be scheduled can cost more.
const PARALLEL_HASH_BYTES: usize = 1 << 20;

/// The git blob ids of `files` (`None`: a SHA-1 collision was detected), keyed by path. With
/// more than [`PARALLEL_HASH_BYTES`] to hash and a second core, the files are split in two
/// halves by size and hashed on two threads (SHA-1 with collision detection is the costliest
/// step of a large crate that matches).
fn published_ids<'a>(
    files: &[(&'a str, &'a crate::archive::File)],
    kind: gix::hash::Kind,
) -> HashMap<&'a str, Option<gix::ObjectId>> {
    let _span = timing::span("hash");
    let hash = |part: &[(&'a str, &'a crate::archive::File)]| {
        part.iter()
            .map(|(path, file)| (*path, file.blob_id(kind)))
            .collect::<Vec<_>>()
    };
    let total: usize = files.iter().map(|(_, f)| f.data.len()).sum();
    // (`available_parallelism` reads cgroup files: only asked when there is enough to hash.)
    if total < PARALLEL_HASH_BYTES
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get) < 2
    {
        return hash(files).into_iter().collect();
    }
    let mut seen = 0;
    let split = files
        .iter()
        .position(|(_, f)| {
            seen += f.data.len();
            seen * 2 >= total
        })
        .map_or(files.len(), |i| i + 1);
    let (first, second) = files.split_at(split);
    std::thread::scope(|s| {
        let other = s.spawn(|| hash(second));
        let mut ids: HashMap<_, _> = hash(first).into_iter().collect();
        ids.extend(
            other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
        ids
    })
}

/// Full diffs left in one comparison, and how many were summarised instead.
struct DiffBudget {
    left: usize,
    omitted: usize,
}

impl DiffBudget {
    /// The `diffs_omitted` finding, when diffs were left out.
    fn finding(&self) -> Option<Finding> {
        (self.omitted > 0).then(|| {
            Finding::new(
                "diffs_omitted",
                Severity::Info,
                format!(
                    "{} more differing text file{} summarised without a diff (sizes and sha-256 only): the first {FULL_DIFFS} are shown in full; `--all-diffs` (option `all_diffs`) shows every diff",
                    self.omitted,
                    if self.omitted == 1 { " is" } else { "s are" },
                ),
            )
        })
    }
}

/// The `diff` text of a differing file whose both sides are in memory: nothing for line endings
/// alone, a unified diff while the budget lasts, else a summary.
fn diff_text(
    path: &str,
    repo: &[u8],
    published: &[u8],
    limits: &Limits,
    budget: &mut DiffBudget,
) -> String {
    if line_endings_only(repo, published) {
        return LINE_ENDINGS_ONLY.to_owned();
    }
    let text = is_text(repo) && is_text(published);
    if text && budget.left == 0 {
        budget.omitted += 1;
        return format!(
            "diff not shown (only the first {FULL_DIFFS} are; `--all-diffs` shows every one): repository {} bytes, published {} bytes",
            repo.len(),
            published.len()
        );
    }
    if text {
        budget.left -= 1;
    }
    render_diff(path, repo, published, limits)
}

/// One published file against the file cargo would package under its name: `None` when the
/// blob ids are equal (or the expected content is outside the repository, already a finding).
#[allow(clippy::too_many_arguments)]
fn compare_file(
    path: &str,
    file: &crate::archive::File,
    published_id: Option<gix::ObjectId>,
    exp: &Expected,
    selection: &Selection,
    repo: &Repo,
    options: &Options,
    diffs: &mut DiffBudget,
) -> Result<Option<Difference>, Error> {
    let limits = &options.limits;
    let Content::Blob { id, repo_path, .. } = &exp.content else {
        // Already a (blocking) finding from the rebuild; nothing to compare with.
        return Ok(None);
    };
    let published_id = published_id.ok_or_else(|| Error::Collision {
        path: path.to_owned(),
    })?;
    if published_id == *id {
        return Ok(None);
    }
    let rp = (repo_path != &rebuild_join(&selection.path_in_vcs, path)).then(|| repo_path.clone());
    if let Some(l) = &exp.link
        && !l.directory
        && l.text == file.data
    {
        return Ok(Some(Difference {
            path: path.to_owned(),
            kind: DifferenceKind::SymlinkText,
            diff: Some(format!(
                "git stores a symlink to `{}`; the crate holds the link text",
                crate::text::escape(&l.text)
            )),
            published: Some(file.digest()),
            repo: None,
            repo_path: rp,
            category: None,
            severity: None,
        }));
    }
    if options.ids_only {
        return Ok(Some(Difference {
            path: path.to_owned(),
            kind: DifferenceKind::ContentDiffers,
            diff: None,
            published: None,
            repo: None,
            repo_path: rp,
            category: None,
            severity: None,
        }));
    }
    let size = repo.blob_size(*id)?;
    if size > limits.max_blob_bytes {
        return Ok(Some(Difference {
            path: path.to_owned(),
            kind: DifferenceKind::ContentDiffers,
            diff: Some(format!(
                "binary files differ: repository {size} bytes, published {} bytes",
                file.size
            )),
            published: Some(file.digest()),
            repo: None,
            repo_path: rp,
            category: None,
            severity: None,
        }));
    }
    let _span = timing::span("diff");
    let blob = repo.blob(*id, limits.max_blob_bytes)?;
    Ok(Some(Difference {
        path: path.to_owned(),
        kind: DifferenceKind::ContentDiffers,
        diff: Some(if file.retained() {
            diff_text(path, &blob, &file.data, limits, diffs)
        } else {
            format!(
                "binary files differ: repository {} bytes, published {} bytes (too large to diff)",
                blob.len(),
                file.size
            )
        }),
        published: Some(file.digest()),
        repo: Some(digest(&blob)),
        repo_path: rp,
        category: None,
        severity: None,
    }))
}

/// Non-regular entries in the archive (symlinks, hard links, devices, …).
fn non_regular_differences(
    archive: &CrateArchive,
    expected: &BTreeMap<String, Expected>,
    non_regular: &BTreeMap<&str, &Anomaly>,
    differences: &mut Vec<Difference>,
) {
    for (path, anomaly) in non_regular {
        if let Anomaly::NonRegular {
            entry_type, target, ..
        } = anomaly
        {
            let desc = match target {
                Some(t) => format!(
                    "the published entry is a {entry_type} to `{}`, not a regular file",
                    crate::text::escape(t.as_bytes())
                ),
                None => format!("the published entry is a {entry_type}, not a regular file"),
            };
            if archive.files.contains_key(*path) {
                continue; // a duplicate; reported through the duplicate finding
            }
            differences.push(Difference {
                path: (*path).to_owned(),
                kind: if expected.contains_key(*path) {
                    DifferenceKind::ContentDiffers
                } else {
                    DifferenceKind::OnlyInPublished
                },
                diff: Some(desc),
                published: None,
                repo: None,
                repo_path: None,
                category: None,
                severity: None,
            });
        }
    }
}

/// Expected but not published.
#[allow(clippy::too_many_arguments)]
fn missing_differences(
    archive: &CrateArchive,
    selection: &Selection,
    expected: &BTreeMap<String, Expected>,
    non_regular: &BTreeMap<&str, &Anomaly>,
    explained_dirs: &BTreeSet<String>,
    repo: &Repo,
    limits: &Limits,
    differences: &mut Vec<Difference>,
) -> Result<(), Error> {
    for (path, exp) in expected {
        if archive.files.contains_key(path) || non_regular.contains_key(path.as_str()) {
            continue;
        }
        if let Some(l) = &exp.link
            && l.directory
            && explained_dirs.contains(&l.link_path)
        {
            continue;
        }
        let (repo_digest, rp) = match &exp.content {
            Content::Blob { id, repo_path, .. } => {
                let d = if repo.blob_size(*id)? <= limits.max_blob_bytes {
                    Some(digest(&repo.blob(*id, limits.max_blob_bytes)?))
                } else {
                    None
                };
                let rp = (repo_path != &rebuild_join(&selection.path_in_vcs, path))
                    .then(|| repo_path.clone());
                (d, rp)
            }
            Content::External { .. } => (None, None),
        };
        differences.push(Difference {
            path: path.clone(),
            kind: DifferenceKind::OnlyInRepo,
            diff: None,
            published: None,
            repo: repo_digest,
            repo_path: rp,
            category: None,
            severity: None,
        });
    }
    Ok(())
}

/// The comparison's findings: packaged git internals, the archive's anomalies, bidirectional
/// or invisible characters in differing files.
fn findings(archive: &CrateArchive, differences: &[Difference]) -> Vec<Finding> {
    let mut out = Vec::new();
    if differences
        .iter()
        .any(|d| d.kind == DifferenceKind::OnlyInPublished && d.path.starts_with(".git/"))
    {
        out.push(
            Finding::new(
                "git_internals_packaged",
                Severity::Medium,
                "the crate contains a `.git/` directory: include patterns matched the publisher's git internals, which no commit holds",
            )
            .with_path(".git"),
        );
    }
    out.extend(archive.anomalies.iter().map(Anomaly::to_finding));
    for d in differences {
        if matches!(
            d.kind,
            DifferenceKind::ContentDiffers | DifferenceKind::OnlyInPublished
        ) && let Some(f) = archive.files.get(&d.path)
            && crate::text::may_hold_bidi_or_invisible(&f.data)
            && let Ok(text) = std::str::from_utf8(&f.data)
            && let Some(c) = text.chars().find(|c| crate::text::is_bidi_or_invisible(*c))
        {
            out.push(
                Finding::new(
                    "suspicious_codepoints",
                    Severity::High,
                    format!(
                        "the published file contains bidirectional or invisible characters (first: U+{:04X}) that can make code read differently than it compiles",
                        u32::from(c)
                    ),
                )
                .with_path(d.path.clone()),
            );
        }
    }
    out
}

/// `a/b`, or `b` at the repository root.
pub(crate) fn rebuild_join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::line_endings_only;

    /// The definition: both text, different, equal once `\r\n` is read as `\n`.
    fn oracle(a: &[u8], b: &[u8]) -> bool {
        let norm = |d: &[u8]| String::from_utf8_lossy(d).replace("\r\n", "\n");
        a != b && super::is_text(a) && super::is_text(b) && norm(a) == norm(b)
    }

    #[test]
    fn line_endings_only_agrees_with_normalizing() {
        let pieces: &[&[u8]] = &[b"a", b"\r", b"\n", b"\r\n", b"0123456789abcdefXYZ", b"\0"];
        // Every sequence of up to 4 pieces, paired with its all-LF and all-CRLF forms and with
        // every input of at most 3 bytes.
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let last: Vec<Vec<u8>> = inputs.clone();
            for s in last.iter().filter(|s| s.len() < 40) {
                for p in pieces {
                    let mut t = s.clone();
                    t.extend_from_slice(p);
                    inputs.push(t);
                }
            }
        }
        inputs.sort();
        inputs.dedup();
        let short: Vec<&Vec<u8>> = inputs.iter().filter(|s| s.len() <= 3).collect();
        let mut positives = 0;
        for a in &inputs {
            let lf: Vec<u8> = String::from_utf8_lossy(a)
                .replace("\r\n", "\n")
                .into_bytes();
            let crlf: Vec<u8> = String::from_utf8_lossy(&lf)
                .replace('\n', "\r\n")
                .into_bytes();
            for b in [&lf, &crlf].into_iter().chain(short.iter().copied()) {
                assert_eq!(line_endings_only(a, b), oracle(a, b), "{a:?} {b:?}");
                assert_eq!(line_endings_only(b, a), oracle(b, a), "{b:?} {a:?}");
                positives += usize::from(oracle(a, b));
            }
        }
        assert!(positives > 100, "{positives}");
        assert!(!line_endings_only(b"x\r\r\n", b"x\r\n"));
    }
}
