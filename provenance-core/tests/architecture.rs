//! The shape of provenance-core, checked (issue 20; ARCHITECTURE.md describes it).
//!
//! * **Layers.** Every top-level module of `src/` has a place in [`LAYERS`]; a module may only
//!   name (`use crate::…`, `crate::a::b`, `super::…`) modules listed *before* it. Nothing names
//!   the crate root (`crate::Limits` and the other re-exports in `lib.rs` are for users; inside
//!   the crate, items are named by the module that defines them).
//! * **No cycles** between source files either: inside a folder module, `mod.rs` may use its
//!   children and a child its siblings, but no file may be reached back from what it uses.
//! * **Size.** No source file over [`MAX_FILE_LINES`] lines, no function over
//!   [`MAX_FN_LINES`] lines unless its doc comment (or its first lines) says why
//!   (`Long because …`).
//! * **The diagram.** ARCHITECTURE.md's module graph is the one generated here
//!   (`print_module_graph`); `BLESS_ARCHITECTURE=1 cargo test -p provenance-core --test
//!   architecture` rewrites it.
//!
//! The parser is deliberately small: comments, strings and character literals are blanked, then
//! every path that starts with `crate::`, `super::`, `self::` or the name of a child module
//! (including `use` trees with braces) is resolved to the deepest source file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// provenance-core's layers, bottom first. A module may use only modules listed before it.
const LAYERS: &[&str] = &[
    // Leaves shared by every stage.
    "text", "ids", "limits", "error", "progress", "report",
    // The stages, in pipeline order, with what they read.
    "metadata", "fetch", "archive", "repo", "rebuild", "compare", "classify",
    // The operation: request types, one commit end to end, the assisted search, the orchestrator.
    "request", "evaluate", "assisted", "verify",
    // Front-end helpers, above the operation.
    "sbom", "batch",
];

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 120;

// ---------------------------------------------------------------------------------------------
// Reading the sources.

/// A source file and the module path it defines (`[]` = the crate root).
#[derive(Debug, Clone)]
struct Source {
    module: Vec<String>,
    rel: String,
    text: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src is readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = src_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let mut module: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_owned)
                .collect();
            if module.last().is_some_and(|l| l == "mod" || l == "lib") {
                module.pop();
            }
            Source {
                module,
                text: std::fs::read_to_string(&p).expect("utf-8 source"),
                rel,
            }
        })
        .collect()
}

/// The source with comments, string and character literals replaced by spaces (newlines kept,
/// so line numbers stay right).
#[allow(clippy::many_single_char_names)]
fn blank(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_newlines = |s: &[char], out: &mut String| {
        for c in s {
            out.push(if *c == '\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = b[i..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(b.len(), |n| i + n);
            keep_newlines(&b[i..end], &mut out);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == '/' && b.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == '*' && b.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            keep_newlines(&b[i..j], &mut out);
            i = j;
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !b[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && {
                let s = if c == 'b' { i + 2 } else { i + 1 };
                let hashes = b[s..].iter().take_while(|c| **c == '#').count();
                b.get(s + hashes) == Some(&'"')
            }
        {
            // Raw string: r"…", r#"…"#, br"…".
            let s = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = b[s..].iter().take_while(|c| **c == '#').count();
            let mut j = s + hashes + 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|c| **c == '#')
                        .count()
                        == hashes
                {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            keep_newlines(&b[i..j.min(b.len())], &mut out);
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            keep_newlines(&b[i..(j + 1).min(b.len())], &mut out);
            i = j + 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                let end = b[(i + 3).min(b.len())..]
                    .iter()
                    .position(|c| *c == '\'')
                    .map_or(b.len(), |n| i + 3 + n + 1);
                keep_newlines(&b[i..end], &mut out);
                i = end;
            } else if b.get(i + 2) == Some(&'\'') {
                out.push_str("   ");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Open,
    Close,
    Comma,
    Star,
    Other(char),
}

fn tokens(code: &str) -> Vec<(Tok, usize)> {
    let b: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let s = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                i += 1;
            }
            out.push((Tok::Ident(b[s..i].iter().collect()), line));
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push((Tok::Path, line));
            i += 2;
        } else {
            out.push((
                match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    '*' => Tok::Star,
                    c => Tok::Other(c),
                },
                line,
            ));
            i += 1;
        }
    }
    out
}

/// One reference from a file to a module path (absolute, before resolution to a file).
#[derive(Debug, Clone)]
struct Reference {
    line: usize,
    path: Vec<String>,
    text: String,
}

/// Parse a path or `use` tree starting at `toks[*i]` (just after a `::`), appending complete
/// paths to `out`.
fn tree(
    toks: &[(Tok, usize)],
    i: &mut usize,
    prefix: &[String],
    line: usize,
    out: &mut Vec<(usize, Vec<String>)>,
) {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(*i).map(|t| &t.0) {
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
                if toks.get(*i).map(|t| &t.0) == Some(&Tok::Path) {
                    *i += 1;
                    continue;
                }
                out.push((line, path));
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                loop {
                    match toks.get(*i).map(|t| &t.0) {
                        Some(Tok::Close) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Comma) => *i += 1,
                        None => return,
                        _ => {
                            let line = toks[*i].1;
                            let before = *i;
                            tree(toks, i, &path, line, out);
                            // Skip `as name`.
                            if let Some(Tok::Ident(a)) = toks.get(*i).map(|t| &t.0)
                                && a == "as"
                            {
                                *i += 2;
                            }
                            if *i == before {
                                *i += 1;
                            }
                        }
                    }
                }
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push((line, path));
                return;
            }
            _ => {
                out.push((line, path));
                return;
            }
        }
    }
}

/// `module::name`.
fn child(module: &[String], name: &str) -> Vec<String> {
    let mut c = module.to_vec();
    c.push(name.to_owned());
    c
}

/// Every `crate::`/`super::`/`self::` reference of a file, and every path through one of its
/// child modules (`use child::Item`, `child::f()`), as absolute module paths.
fn references(src: &Source, modules: &BTreeSet<Vec<String>>) -> Vec<Reference> {
    let toks = tokens(&blank(&src.text));
    let mut out = Vec::new();
    // Inline modules (`mod tests { … }`): (name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Open, _))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Tok::Ident(start)
                if toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path)
                    && !matches!(toks.get(i.wrapping_sub(1)).map(|t| &t.0), Some(Tok::Path))
                    && (start == "crate"
                        || start == "super"
                        || start == "self"
                        || (inline.is_empty() && modules.contains(&child(&src.module, start)))) =>
            {
                let line = toks[i].1;
                let mut here: Vec<String> = src.module.clone();
                here.extend(inline.iter().map(|m| m.0.clone()));
                let mut base = if start == "crate" {
                    Vec::new()
                } else {
                    here.clone()
                };
                let mut j = i;
                // `super::super::…`
                while let Some((Tok::Ident(s), _)) = toks.get(j) {
                    if s == "super" {
                        base.pop();
                    } else if s != "self" && s != "crate" {
                        break;
                    }
                    if toks.get(j + 1).map(|t| &t.0) != Some(&Tok::Path) {
                        break;
                    }
                    j += 2;
                }
                let mut paths = Vec::new();
                tree(&toks, &mut j, &base, line, &mut paths);
                for (line, path) in paths {
                    let text = src
                        .text
                        .lines()
                        .nth(line - 1)
                        .unwrap_or_default()
                        .trim()
                        .to_owned();
                    out.push(Reference { line, path, text });
                }
                i = j.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The graph.

/// An edge between two files, with where it is made.
#[derive(Debug, Clone)]
struct Edge {
    from: usize,
    to: usize,
    line: usize,
    text: String,
}

struct Graph {
    sources: Vec<Source>,
    edges: Vec<Edge>,
}

fn graph() -> Graph {
    let sources = sources();
    let by_module: BTreeMap<Vec<String>, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.module.clone(), i))
        .collect();
    let modules: BTreeSet<Vec<String>> = by_module.keys().cloned().collect();
    let mut edges = Vec::new();
    for (from, s) in sources.iter().enumerate() {
        for r in references(s, &modules) {
            // The deepest file module that is a prefix of the path.
            let to = (0..=r.path.len())
                .rev()
                .find_map(|n| by_module.get(&r.path[..n]).copied())
                .expect("the root matches");
            if to != from {
                edges.push(Edge {
                    from,
                    to,
                    line: r.line,
                    text: r.text,
                });
            }
        }
    }
    Graph { sources, edges }
}

fn top(s: &Source) -> &str {
    s.module.first().map_or("(crate root)", String::as_str)
}

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == name)
}

impl Graph {
    fn name(&self, i: usize) -> String {
        format!("src/{}", self.sources[i].rel)
    }

    /// The problems with the layering, one line each.
    fn layer_violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        let tops: BTreeSet<&str> = self
            .sources
            .iter()
            .filter(|s| !s.module.is_empty())
            .map(top)
            .collect();
        for t in &tops {
            if layer(t).is_none() {
                out.push(format!(
                    "module `{t}` is not in LAYERS (tests/architecture.rs): give it a layer"
                ));
            }
        }
        for l in LAYERS {
            if !tops.contains(l) {
                out.push(format!("LAYERS lists `{l}`, which is not a module of src/"));
            }
        }
        let mut seen = BTreeSet::new();
        for e in &self.edges {
            let (a, b) = (&self.sources[e.from], &self.sources[e.to]);
            if a.module.is_empty() || !seen.insert((e.from, e.line, e.to)) {
                continue; // lib.rs: re-exports and the public facade may name anything.
            }
            let why = if b.module.is_empty() {
                Some("names the crate root; name the module that defines the item".to_owned())
            } else if top(a) != top(b) {
                match (layer(top(a)), layer(top(b))) {
                    (Some(x), Some(y)) if y > x => Some(format!(
                        "upward import: `{}` (layer {x}) may not use `{}` (layer {y})",
                        top(a),
                        top(b)
                    )),
                    _ => None,
                }
            } else {
                None
            };
            if let Some(why) = why {
                out.push(format!(
                    "{}:{}: {why}\n    {}",
                    self.name(e.from),
                    e.line,
                    e.text
                ));
            }
        }
        out
    }

    /// Strongly connected components with more than one file (Tarjan).
    fn cycles(&self) -> Vec<Vec<usize>> {
        let n = self.sources.len();
        let mut adj = vec![BTreeSet::new(); n];
        for e in &self.edges {
            adj[e.from].insert(e.to);
        }
        struct T<'a> {
            adj: &'a [BTreeSet<usize>],
            index: Vec<Option<usize>>,
            low: Vec<usize>,
            on: Vec<bool>,
            stack: Vec<usize>,
            next: usize,
            out: Vec<Vec<usize>>,
        }
        fn visit(t: &mut T<'_>, v: usize) {
            t.index[v] = Some(t.next);
            t.low[v] = t.next;
            t.next += 1;
            t.stack.push(v);
            t.on[v] = true;
            for &w in &t.adj[v] {
                match t.index[w] {
                    None => {
                        visit(t, w);
                        t.low[v] = t.low[v].min(t.low[w]);
                    }
                    Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(t.low[v]) == t.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = t.stack.pop() {
                    t.on[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort_unstable();
                    t.out.push(comp);
                }
            }
        }
        let mut t = T {
            adj: &adj,
            index: vec![None; n],
            low: vec![0; n],
            on: vec![false; n],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in 0..n {
            if t.index[v].is_none() {
                visit(&mut t, v);
            }
        }
        t.out
    }

    /// One shortest cycle through the first file of a strongly connected component, with the
    /// line that makes each step.
    fn describe_cycle(&self, comp: &[usize]) -> String {
        let set: BTreeSet<usize> = comp.iter().copied().collect();
        let start = comp[0];
        // Breadth-first from `start` inside the component, back to `start`.
        let mut prev: BTreeMap<usize, &Edge> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut closing: Option<&Edge> = None;
        'bfs: while let Some(v) = queue.pop_front() {
            for e in self
                .edges
                .iter()
                .filter(|e| e.from == v && set.contains(&e.to))
            {
                if e.to == start {
                    closing = Some(e);
                    break 'bfs;
                }
                if let std::collections::btree_map::Entry::Vacant(slot) = prev.entry(e.to) {
                    slot.insert(e);
                    queue.push_back(e.to);
                }
            }
        }
        let mut steps: Vec<&Edge> = Vec::new();
        if let Some(mut e) = closing {
            steps.push(e);
            while e.from != start {
                e = prev[&e.from];
                steps.push(e);
            }
        }
        steps.reverse();
        let mut s = format!(
            "import cycle ({} files in the strongly connected component):",
            comp.len()
        );
        for e in steps {
            let _ = write!(
                s,
                "\n  {}:{} uses {}\n    {}",
                self.name(e.from),
                e.line,
                self.name(e.to),
                e.text
            );
        }
        s
    }

    /// Direct dependencies between top-level modules.
    fn module_edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in &self.sources {
            if !s.module.is_empty() {
                out.entry(top(s).to_owned()).or_default();
            }
        }
        for e in &self.edges {
            let (a, b) = (&self.sources[e.from], &self.sources[e.to]);
            if !a.module.is_empty() && !b.module.is_empty() && top(a) != top(b) {
                out.entry(top(a).to_owned())
                    .or_default()
                    .insert(top(b).to_owned());
            }
        }
        out
    }
}

/// The generated part of ARCHITECTURE.md: a Mermaid diagram of the layers (the transitive
/// reduction of the module graph: an edge implied by a longer path is left out) and the full list
/// of direct dependencies.
fn diagram(g: &Graph) -> String {
    let edges = g.module_edges();
    let reaches = |from: &str, to: &str, skip: (&str, &str)| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for d in edges.get(&m).into_iter().flatten() {
                if (m.as_str(), d.as_str()) == skip || !seen.insert(d.clone()) {
                    continue;
                }
                if d == to {
                    return true;
                }
                stack.push(d.clone());
            }
        }
        false
    };
    let order = |m: &str| layer(m).unwrap_or(usize::MAX);
    let mut mods: Vec<&String> = edges.keys().collect();
    mods.sort_by_key(|m| std::cmp::Reverse(order(m)));
    let mut s = String::from("```mermaid\nflowchart TD\n");
    for m in &mods {
        let mut deps: Vec<&String> = edges[*m]
            .iter()
            .filter(|d| !reaches(m, d, (m, d)))
            .collect();
        deps.sort_by_key(|d| std::cmp::Reverse(order(d)));
        for d in deps {
            let _ = writeln!(s, "    {m} --> {d}");
        }
    }
    s.push_str(
        "```\n\nEvery direct dependency (module: what it uses), top layer first:\n\n```text\n",
    );
    for m in &mods {
        let mut deps: Vec<&String> = edges[*m].iter().collect();
        deps.sort_by_key(|d| std::cmp::Reverse(order(d)));
        let deps: Vec<&str> = deps.iter().map(|d| d.as_str()).collect();
        let _ = writeln!(
            s,
            "{m:<9} {}",
            if deps.is_empty() {
                "-".to_owned()
            } else {
                deps.join(", ")
            }
        );
    }
    s.push_str("```\n");
    s
}

const BEGIN: &str =
    "<!-- module-graph: generated by provenance-core/tests/architecture.rs; do not edit -->\n";
const END: &str = "<!-- module-graph: end -->\n";

// ---------------------------------------------------------------------------------------------
// The checks.

#[test]
fn modules_are_layered_and_acyclic() {
    let g = graph();
    let mut problems = g.layer_violations();
    problems.extend(g.cycles().iter().map(|c| g.describe_cycle(c)));
    assert!(
        problems.is_empty(),
        "provenance-core's module graph breaks its layering (ARCHITECTURE.md):\n\n{}\n",
        problems.join("\n\n")
    );
}

/// Functions: (file, name, first line, length in lines, whether a reason is given).
fn functions(src: &Source) -> Vec<(String, usize, usize, bool)> {
    let code = blank(&src.text);
    let lines: Vec<&str> = src.text.lines().collect();
    let toks = tokens(&code);
    let mut out = Vec::new();
    for (i, (t, line)) in toks.iter().enumerate() {
        let (Tok::Ident(kw), Some((Tok::Ident(name), _))) = (t, toks.get(i + 1)) else {
            continue;
        };
        if kw != "fn" {
            continue;
        }
        // The body: the first `{` at bracket depth 0 before a `;`.
        let mut j = i + 2;
        let mut paren = 0i32;
        let body = loop {
            match toks.get(j).map(|t| &t.0) {
                None => break None,
                Some(Tok::Other('(' | '[' | '<')) => paren += 1,
                Some(Tok::Other(')' | ']' | '>')) => paren -= 1,
                Some(Tok::Other(';')) if paren <= 0 => break None,
                Some(Tok::Open) if paren <= 0 => break Some(j),
                _ => {}
            }
            j += 1;
        };
        let Some(open) = body else { continue };
        let mut depth = 0;
        let mut end_line = toks[open].1;
        for (t, l) in &toks[open..] {
            match t {
                Tok::Open => depth += 1,
                Tok::Close => {
                    depth -= 1;
                    if depth == 0 {
                        end_line = *l;
                        break;
                    }
                }
                _ => {}
            }
        }
        let len = end_line - line + 1;
        // The reason: in the doc comment above, or in the first lines of the body.
        let mut k = line - 1;
        let mut doc = String::new();
        while k > 0 {
            let l = lines[k - 1].trim_start();
            if l.starts_with("///") || l.starts_with("#[") || l.starts_with("//") {
                doc.push_str(l);
                k -= 1;
            } else {
                break;
            }
        }
        for l in lines.iter().skip(toks[open].1 - 1).take(4) {
            doc.push_str(l);
        }
        let reason = doc.to_ascii_lowercase().contains("long because");
        out.push((name.clone(), *line, len, reason));
    }
    out
}

#[test]
fn files_and_functions_are_short() {
    let mut problems = Vec::new();
    for s in sources() {
        let n = s.text.lines().count();
        if n > MAX_FILE_LINES {
            problems.push(format!(
                "src/{} has {n} lines (at most {MAX_FILE_LINES}): split it",
                s.rel
            ));
        }
        for (name, line, len, reason) in functions(&s) {
            if len > MAX_FN_LINES && !reason {
                problems.push(format!(
                    "src/{}:{line}: `fn {name}` has {len} lines (at most {MAX_FN_LINES} without a `Long because …` note at its top)",
                    s.rel
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn architecture_md_shows_the_current_graph() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path).expect("ARCHITECTURE.md at the repository root");
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        panic!("ARCHITECTURE.md has no generated module-graph block ({BEGIN:?} … {END:?})");
    };
    let current = &text[b + BEGIN.len()..e];
    let fresh = diagram(&graph());
    if current == fresh {
        return;
    }
    if std::env::var_os("BLESS_ARCHITECTURE").is_some() {
        let updated = format!("{}{BEGIN}{fresh}{}", &text[..b], &text[e..]);
        std::fs::write(&path, updated).expect("ARCHITECTURE.md is writable");
        return;
    }
    panic!(
        "ARCHITECTURE.md's module graph is stale. Run\n  BLESS_ARCHITECTURE=1 cargo test -p provenance-core --test architecture\nor paste:\n\n{fresh}"
    );
}

/// Print the generated diagram (`cargo test -p provenance-core --test architecture --
/// --ignored --nocapture`).
#[test]
#[ignore = "prints the module graph for ARCHITECTURE.md"]
fn print_module_graph() {
    print!("{}", diagram(&graph()));
}
