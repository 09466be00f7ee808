//! Human output. Every attacker-controlled string goes through `escape` (terminal-safe).

use std::fmt::Write;

use provenance_core::archive::escape;
use provenance_core::{Report, Verdict};

fn esc(s: &str) -> String {
    escape(s.as_bytes())
}

/// Escape one diff line but keep it readable (tabs are fine).
fn esc_line(s: &str) -> String {
    s.split('\t').map(esc).collect::<Vec<_>>().join("\t")
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The error and its sources, `: `-separated (cargo style), escaped.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    provenance_core::error_message(e)
}

/// One summary line, then differences (with diffs), findings and the assisted attempt.
pub fn human(r: &Report, color: bool) -> String {
    let mut out = String::new();
    let id = format!("{} {}", esc(&r.krate.name), esc(&r.krate.version));
    let repo = r
        .source
        .repository
        .as_deref()
        .map_or_else(|| "(none)".to_owned(), esc);
    let at = match (&r.source.commit, &r.source.path_in_vcs) {
        (Some(c), Some(p)) if p.is_empty() => format!(" at {c} (repository root)"),
        (Some(c), Some(p)) => format!(" at {c} (path `{}`)", esc(p)),
        (Some(c), None) => format!(" at {c}"),
        _ => String::new(),
    };
    let verdict = paint(
        color,
        if r.verdict == Verdict::Match {
            "1;32"
        } else {
            "1;31"
        },
        r.verdict.as_str(),
    );
    let detail = match r.verdict {
        Verdict::Match => format!(
            "{id} equals {repo}{at}: {} files compared, {} equal",
            r.files.compared, r.files.equal
        ),
        Verdict::NoRepository => format!("{id} declares no repository"),
        Verdict::NoVcsInfo => format!("{id} has no .cargo_vcs_info.json"),
        Verdict::RepositoryNotFound => format!("{id}: repository {repo} cannot be opened"),
        Verdict::RevisionNotFound => format!(
            "{id}: commit {} is not in {repo}",
            r.source.commit.as_deref().unwrap_or("?")
        ),
        Verdict::PathNotFound => format!("{id}: no package `{}` in {repo}{at}", esc(&r.krate.name)),
        Verdict::PackageError => format!("{id}: cargo cannot package {repo}{at}"),
        _ => format!(
            "{id} differs from {repo}{at}: {} of {} files differ",
            r.differences.len(),
            r.files.compared
        ),
    };
    let _ = writeln!(out, "{verdict}: {detail}");
    if let Some(from) = &r.source.fetched_from {
        let _ = writeln!(out, "  fetched from the mirror {}", esc(from));
    }
    if !r.differences.is_empty() {
        let _ = writeln!(out, "  {}", esc(&r.summary));
    }
    if r.source.dirty {
        let _ = writeln!(out, "  note: the publisher declared the work tree dirty");
    }
    for d in &r.differences {
        let tag = match (d.category, d.severity) {
            (Some(c), Some(s)) => format!(" [{}, {}]", c.as_str(), severity_name(s)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "\n{} {}{tag}",
            paint(color, "1;33", d.kind.as_str()),
            paint(color, "1", &esc(&d.path))
        );
        if let Some(rp) = &d.repo_path {
            let _ = writeln!(out, "  repository path: {}", esc(rp));
        }
        if let Some(p) = &d.published {
            let _ = writeln!(out, "  published:  {} bytes, sha256 {}", p.size, p.sha256);
        }
        if let Some(p) = &d.repo {
            let _ = writeln!(out, "  repository: {} bytes, sha256 {}", p.size, p.sha256);
        }
        if let Some(diff) = &d.diff {
            for line in diff.lines() {
                let code = if line.starts_with("+++") || line.starts_with("---") {
                    "1"
                } else if line.starts_with('+') {
                    "32"
                } else if line.starts_with('-') {
                    "31"
                } else if line.starts_with("@@") {
                    "36"
                } else {
                    ""
                };
                let l = esc_line(line);
                let _ = writeln!(
                    out,
                    "  {}",
                    if code.is_empty() {
                        l
                    } else {
                        paint(color, code, &l)
                    }
                );
            }
        }
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for f in &r.findings {
            let sev = severity_name(f.severity);
            let path = f
                .path
                .as_deref()
                .map(|p| format!(" `{}`", esc(p)))
                .unwrap_or_default();
            let _ = writeln!(out, "  [{sev}] {}{path}: {}", esc(&f.kind), esc(&f.message));
        }
    }
    if let Some(a) = &r.assisted {
        let _ = writeln!(
            out,
            "\nassisted: {} `{}` -> {} (path `{}`): {}, {}",
            esc(&a.how),
            esc(&a.reference),
            a.commit,
            esc(&a.path_in_vcs),
            a.verdict.as_str(),
            esc(&a.summary)
        );
        for d in &a.differences {
            let tag = match (d.category, d.severity) {
                (Some(c), Some(s)) => format!(" [{}, {}]", c.as_str(), severity_name(s)),
                _ => String::new(),
            };
            let _ = writeln!(out, "  {} {}{tag}", d.kind.as_str(), esc(&d.path));
        }
    }
    out
}

fn severity_name(s: provenance_core::Severity) -> &'static str {
    match s {
        provenance_core::Severity::Info => "info",
        provenance_core::Severity::Low => "low",
        provenance_core::Severity::Medium => "medium",
        provenance_core::Severity::High => "high",
    }
}

/// Human output of `inspect`: a summary line, the era, the inventory, then every finding.
pub fn inspection(i: &provenance_core::Inspection) -> String {
    let mut out = String::new();
    let high = i
        .findings
        .iter()
        .filter(|f| f.severity == provenance_core::Severity::High)
        .count();
    let _ = writeln!(
        out,
        "{} {}: {} files, {} bytes; {} findings ({} high); made by cargo {}–{}",
        esc(&i.krate.name),
        esc(&i.krate.version),
        i.inventory.files,
        i.inventory.total_bytes,
        i.findings.len(),
        high,
        i.era.min,
        i.era.max
    );
    let d = &i.declared;
    let _ = writeln!(
        out,
        "repository: {}; commit: {}{}",
        d.repository
            .as_deref()
            .map_or_else(|| "(none)".to_owned(), esc),
        d.commit.as_deref().unwrap_or("(no .cargo_vcs_info.json)"),
        d.path_in_vcs
            .as_deref()
            .map_or_else(String::new, |p| format!(" (path `{}`)", esc(p)))
    );
    let inv = &i.inventory;
    let _ = writeln!(
        out,
        "build script: {}; proc-macro: {}; links: {}",
        inv.build_script
            .as_deref()
            .map_or_else(|| "none".to_owned(), esc),
        if inv.proc_macro { "yes" } else { "no" },
        inv.links.as_deref().map_or_else(|| "none".to_owned(), esc)
    );
    for (label, list) in [
        ("binary", &inv.binary_files),
        ("executable", &inv.executable_files),
        ("large", &inv.large_files),
        ("generated", &inv.generated_files),
    ] {
        for f in list {
            let _ = writeln!(
                out,
                "  {label:<10} {} ({} bytes, {})",
                esc(&f.path),
                f.size,
                f.reason
            );
        }
    }
    for v in &inv.vendored_directories {
        let _ = writeln!(
            out,
            "  vendored   {}/ ({} files, {} bytes)",
            esc(&v.path),
            v.files,
            v.bytes
        );
    }
    for f in &i.findings {
        let path = f
            .path
            .as_deref()
            .map_or_else(String::new, |p| format!(" `{}`", esc(p)));
        let _ = writeln!(
            out,
            "{} {}{}: {}",
            f.severity.as_str(),
            f.kind,
            path,
            esc(&f.message)
        );
    }
    out
}
