//! File selection: random trees and `include`/`exclude` patterns → `rebuild::Filter` and the full
//! `rebuild::locate_package` + `rebuild::rebuild` over a real (temporary, bare) git repository
//! whose objects are written from the fuzz input.
//!
//! Oracles:
//! * `Filter` — `Cargo.toml` is always kept (cargo ≥ 1.36); `keep` is a pure function;
//!   duplicating the pattern list changes nothing; without `!` patterns the order of the
//!   patterns does not matter and adding an exclude pattern never keeps more.
//! * `rebuild` — no panic; deterministic; every selected path is a clean package-relative path;
//!   `Cargo.toml.orig` (origin `Manifest`) is always there and the generated names
//!   (`Cargo.toml`, `.cargo_vcs_info.json`, and since 1.84 `Cargo.lock`) never are; a listed
//!   plain blob is
//!   exactly the blob at that path in the tree; without `!` patterns an extra exclude pattern
//!   never selects more files.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use gix::ObjectId;
use gix::objs::tree::{Entry, EntryKind};
use libfuzzer_sys::fuzz_target;
use provenance_core::Limits;
use provenance_core::rebuild::{self, Content, Filter, Origin, Rules};
use provenance_core::repo::{CommitInfo, Repo};

const NAMES: &[&str] = &[
    "src",
    "lib.rs",
    "main.rs",
    "tests",
    "a",
    "b",
    ".hidden",
    "target",
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "x.txt",
    "sub",
    "LICENSE",
    "build.rs",
    "docs",
    ".git",
    "Cargo.toml.orig",
    "benches",
    "c d",
];
const TOKENS: &[&str] = &[
    "/", "*", "**", "!", "src", "a", ".*", "*.rs", "tests/", "?", "[ab]", "\\", "x.txt", "target",
    "sub", "b", "/*", "**/", "lib.rs", "#", " ", "{a,b}", ".", "..",
];

#[derive(Arbitrary, Debug)]
enum Kind {
    File,
    Exec,
    Link(u8),
}

#[derive(Arbitrary, Debug)]
struct FileSpec {
    path: Vec<u8>,
    kind: Kind,
    content: u8,
}

#[derive(Arbitrary, Debug)]
enum Pat {
    Tokens(Vec<u8>),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    files: Vec<FileSpec>,
    include: Vec<Pat>,
    exclude: Vec<Pat>,
    extra_exclude: Vec<u8>,
    subdir: bool,
    readme: Option<u8>,
    license: Option<u8>,
    rules: u8,
    probes: Vec<Vec<u8>>,
}

fn path(ix: &[u8]) -> String {
    let n = ix.len().clamp(1, 4);
    (0..n)
        .map(|i| NAMES[usize::from(*ix.get(i).unwrap_or(&0)) % NAMES.len()])
        .collect::<Vec<_>>()
        .join("/")
}

fn tokens(ix: &[u8]) -> String {
    ix.iter()
        .take(5)
        .map(|i| TOKENS[usize::from(*i) % TOKENS.len()])
        .collect()
}

fn pattern(p: &Pat) -> String {
    match p {
        Pat::Tokens(t) => tokens(t),
        Pat::Raw(s) => s.chars().take(24).collect(),
    }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

thread_local! {
    static REPO: (tempfile::TempDir, gix::Repository) = {
        let dir = tempfile::tempdir().unwrap();
        let r = gix::init_bare(dir.path()).unwrap();
        (dir, r)
    };
}

#[derive(Default)]
struct Node {
    children: BTreeMap<String, Node>,
    leaf: Option<(EntryKind, ObjectId)>,
}

fn insert(root: &mut Node, path: &str, leaf: (EntryKind, ObjectId)) -> bool {
    // Refuse conflicts (a file where a directory would be, or a path given twice) before
    // creating any node, so that the tree never holds empty directories.
    let comps: Vec<&str> = path.split('/').collect();
    let mut node = &*root;
    let mut found = 0;
    for c in &comps {
        match node.children.get(*c) {
            Some(n) if n.leaf.is_some() => return false,
            Some(n) => {
                node = n;
                found += 1;
            }
            None => break,
        }
    }
    if found == comps.len() {
        return false; // an existing directory
    }
    let mut node = root;
    for c in &comps {
        node = node.children.entry((*c).to_owned()).or_default();
    }
    node.leaf = Some(leaf);
    true
}

fn write(repo: &gix::Repository, node: &Node) -> ObjectId {
    let mut entries: Vec<Entry> = node
        .children
        .iter()
        .filter(|(_, n)| n.leaf.is_some() || !n.children.is_empty())
        .map(|(name, n)| {
            let (mode, oid) = match n.leaf {
                Some((k, id)) => (k.into(), id),
                None => (EntryKind::Tree.into(), write(repo, n)),
            };
            Entry {
                mode,
                filename: name.as_str().into(),
                oid,
            }
        })
        .collect();
    entries.sort();
    repo.write_object(&gix::objs::Tree { entries })
        .unwrap()
        .detach()
}

fn manifest(input: &Input, include: &[String], exclude: &[String]) -> String {
    let list = |v: &[String]| v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ");
    let mut m = String::from("[package]\nname = \"fz\"\nversion = \"0.1.0\"\n");
    if !include.is_empty() {
        m += &format!("include = [{}]\n", list(include));
    }
    if !exclude.is_empty() || input.include.is_empty() {
        m += &format!("exclude = [{}]\n", list(exclude));
    }
    if let Some(r) = input.readme {
        m += &format!("readme = {}\n", quote(&path(&[r])));
    }
    if let Some(l) = input.license {
        m += &format!("license-file = {}\n", quote(&path(&[l, l / 3])));
    }
    m
}

fn check_filter(include: &[String], exclude: &[String], gitignore: bool, probes: &[String]) {
    let Ok(f) = Filter::new(include, exclude, gitignore, false) else {
        return;
    };
    if gitignore {
        assert!(f.keep("Cargo.toml", false), "Cargo.toml dropped");
    }
    let twice = |v: &[String]| v.iter().chain(v).cloned().collect::<Vec<_>>();
    let f2 = Filter::new(&twice(include), &twice(exclude), gitignore, false).unwrap();
    let negation = include.iter().chain(exclude).any(|p| p.starts_with('!'));
    let rev = |v: &[String]| v.iter().rev().cloned().collect::<Vec<_>>();
    let f3 = Filter::new(&rev(include), &rev(exclude), gitignore, false).unwrap();
    let mut more = exclude.to_vec();
    more.push("*.rs".into());
    let f4 = Filter::new(include, &more, gitignore, false).unwrap();
    for p in probes {
        for is_dir in [false, true] {
            let k = f.keep(p, is_dir);
            assert_eq!(k, f.keep(p, is_dir), "impure");
            assert_eq!(k, f2.keep(p, is_dir), "duplicated patterns differ on {p}");
            if !negation {
                assert_eq!(k, f3.keep(p, is_dir), "pattern order matters for {p}");
                assert!(k || !f4.keep(p, is_dir), "extra exclude kept {p}");
            }
        }
    }
}

fn select(
    repo_path: &std::path::Path,
    commit: &CommitInfo,
    pkg: &str,
    rules: Rules,
) -> Option<BTreeMap<String, (Content, Origin)>> {
    let mut limits = Limits::default();
    limits.max_tree_entries = 10_000;
    limits.max_patterns = 64;
    let repo = Repo::open(repo_path, &limits).unwrap();
    let loc = rebuild::locate_package(
        &repo,
        commit.id,
        commit.tree,
        Some("fz"),
        "0.1.0",
        Some(pkg),
        None,
        &limits,
    )
    .ok()?;
    let mut opts = rebuild::Options::default();
    opts.rules = rules;
    opts.limits = limits;
    let sel = rebuild::rebuild(&repo, commit, &loc, &opts).ok()?;
    Some(
        sel.files
            .into_iter()
            .map(|(k, e)| (k, (e.content, e.origin)))
            .collect(),
    )
}

fuzz_target!(|input: Input| {
    if input.files.len() > 24 || input.include.len() + input.exclude.len() > 12 {
        return;
    }
    if std::env::var_os("FUZZ_DEBUG").is_some() {
        eprintln!("{input:#?}");
    }
    let include: Vec<String> = input.include.iter().map(pattern).collect();
    let exclude: Vec<String> = input.exclude.iter().map(pattern).collect();
    let probes: Vec<String> = input
        .probes
        .iter()
        .take(8)
        .map(|p| path(p))
        .chain(input.files.iter().map(|f| path(&f.path)))
        .collect();
    let gitignore = input.rules & 1 == 0;
    check_filter(&include, &exclude, gitignore, &probes);

    let rules = Rules {
        cargo_minor: Rules::BREAKPOINTS[usize::from(input.rules >> 1) % Rules::BREAKPOINTS.len()],
    };
    let pkg = if input.subdir { "sub" } else { "" };
    let prefix = |p: &str| {
        if pkg.is_empty() {
            p.to_owned()
        } else {
            format!("{pkg}/{p}")
        }
    };
    REPO.with(|(dir, repo)| {
        let mut tree_files: BTreeMap<String, (EntryKind, ObjectId)> = BTreeMap::new();
        let mut root = Node::default();
        let mut add = |root: &mut Node, p: String, k: EntryKind, id: ObjectId| {
            if insert(root, &p, (k, id)) {
                tree_files.insert(p, (k, id));
            }
        };
        // The manifests first, so that they win over fuzzed entries at the same path.
        let man = manifest(&input, &include, &exclude);
        let mid = repo.write_blob(man.as_bytes()).unwrap().detach();
        add(&mut root, prefix("Cargo.toml"), EntryKind::Blob, mid);
        if !pkg.is_empty() {
            let ws = repo
                .write_blob(b"[workspace]\nmembers = [\"sub\"]\n")
                .unwrap()
                .detach();
            add(&mut root, "Cargo.toml".into(), EntryKind::Blob, ws);
        }
        for f in &input.files {
            let p = prefix(&path(&f.path));
            let (kind, bytes) = match f.kind {
                Kind::File => (EntryKind::Blob, vec![b'x'; usize::from(f.content % 4)]),
                Kind::Exec => (
                    EntryKind::BlobExecutable,
                    vec![b'y'; usize::from(f.content % 4)],
                ),
                Kind::Link(t) => (EntryKind::Link, path(&[t, f.content]).into_bytes()),
            };
            let id = repo.write_blob(&bytes).unwrap().detach();
            add(&mut root, p, kind, id);
        }
        let tree = write(repo, &root);
        let commit = CommitInfo { id: tree, tree };
        let Some(a) = select(dir.path(), &commit, pkg, rules) else {
            return;
        };
        let b = select(dir.path(), &commit, pkg, rules).expect("second rebuild failed");
        assert_eq!(a, b, "not deterministic");
        assert!(
            matches!(a.get("Cargo.toml.orig"), Some((_, Origin::Manifest))),
            "no Cargo.toml.orig: {a:?}"
        );
        for (p, (content, origin)) in &a {
            assert!(!p.is_empty() && !p.starts_with('/'), "{p:?}");
            assert!(
                p.split('/').all(|c| !matches!(c, "" | "." | "..")),
                "unclean {p:?}"
            );
            // Before 1.84 `Cargo.lock` may come back as a forced readme/license-file: cargo
            // packages the raw file then unless it generates a lock file (bin/example targets);
            // since 1.84 the lock file is always generated (spec §4.5).
            assert!(
                !matches!(p.as_str(), "Cargo.toml" | ".cargo_vcs_info.json")
                    && (p != "Cargo.lock"
                        || (rules.cargo_minor < 84
                            && matches!(origin, Origin::Readme | Origin::LicenseFile))),
                "generated name selected: {p} (rules {rules:?}, files {a:#?})"
            );
            if let (Content::Blob { id, repo_path, .. }, Origin::Listed) = (content, origin) {
                if let Some((_, tid)) = tree_files.get(repo_path) {
                    assert_eq!(tid, id, "{p} is not the blob at {repo_path}");
                }
            }
        }
        // An extra exclude pattern never selects more (no `!`, no include, current rules).
        let negation = include.iter().chain(&exclude).any(|p| p.starts_with('!'));
        if include.is_empty()
            && !negation
            && rules.cargo_minor >= 36
            && !input.extra_exclude.is_empty()
        {
            let mut more = exclude.clone();
            more.push(tokens(&input.extra_exclude));
            if more.iter().any(|p| p.starts_with('!')) {
                return;
            }
            let mut root2 = Node::default();
            for (p, (k, id)) in &tree_files {
                insert(&mut root2, p, (*k, *id));
            }
            let man2 = manifest(&input, &include, &more);
            let mid2 = repo.write_blob(man2.as_bytes()).unwrap().detach();
            insert_force(&mut root2, &prefix("Cargo.toml"), mid2);
            let tree2 = write(repo, &root2);
            let c2 = CommitInfo {
                id: tree2,
                tree: tree2,
            };
            if let Some(fewer) = select(dir.path(), &c2, pkg, rules) {
                for k in fewer.keys() {
                    assert!(
                        k == "Cargo.toml.orig" || a.contains_key(k),
                        "exclude {:?} added {k}",
                        more.last()
                    );
                }
            }
        }
    });
});

fn insert_force(root: &mut Node, path: &str, id: ObjectId) {
    let mut node = root;
    for c in path.split('/') {
        node = node.children.entry(c.to_owned()).or_default();
    }
    node.leaf = Some((EntryKind::Blob, id));
}
