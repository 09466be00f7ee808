//! The summary of a scan or of a results file: verdict counts (in the layout of the 2024
//! study of the top crates: `match` first, then the ways verification fails), the crates
//! without `match`, and the gate.

use std::fmt::Write as _;

use crate::report::Verdict;
use serde::Serialize;

use super::inputs::Skipped;
use super::policy::{self, Policy};
use super::results::{Entry, Outcome};

/// One crate version that is not `match`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// The verdict name, or `error`.
    pub verdict: String,
    /// The repository (for a verdict) or `kind: message` (for an error).
    pub detail: String,
    /// The gate denies this verdict and no exemption applies.
    pub denied: bool,
    /// The exemption's reason, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<String>,
}

/// The whole summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Always 1.
    pub schema_version: u32,
    /// Crate versions with a result.
    pub total: usize,
    /// `(verdict or "error", count)`, every verdict listed.
    #[serde(serialize_with = "counts_as_map")]
    pub counts: Vec<(&'static str, usize)>,
    /// The crates that are not `match`, in result order.
    pub not_match: Vec<Row>,
    /// Packages that were not verified.
    pub skipped: Vec<Skipped>,
    /// The denied verdicts.
    pub deny: Vec<String>,
    /// Whether the gate fails (some crate has a denied verdict and no exemption).
    pub gate_failed: bool,
    /// Exemptions that matched no crate in the results.
    pub unused_exemptions: Vec<String>,
}

fn counts_as_map<S: serde::Serializer>(
    counts: &[(&'static str, usize)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(counts.len()))?;
    for (k, v) in counts {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

/// Verdicts in the study's order: `match`, then from the mildest failure to the worst.
pub fn verdict_order() -> impl Iterator<Item = Verdict> {
    Verdict::ALL.iter().rev().copied()
}

/// Summarize `entries` (one per crate version) and the skipped packages under `policy`.
pub fn summarize(entries: &[&Entry], skipped: &[Skipped], policy: &Policy) -> Summary {
    let mut counts: Vec<(&'static str, usize)> = verdict_order().map(|v| (v.as_str(), 0)).collect();
    counts.push((policy::ERROR, 0));
    let mut not_match = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for e in entries {
        let (label, detail) = match &e.outcome {
            Outcome::Report(r) => (
                r.verdict.as_str(),
                r.source.repository.clone().unwrap_or_default(),
            ),
            Outcome::Error { kind, message } => (policy::ERROR, format!("{kind}: {message}")),
        };
        if let Some(c) = counts.iter_mut().find(|(k, _)| *k == label) {
            c.1 += 1;
        }
        if label == Verdict::Match.as_str() {
            continue;
        }
        let key = e.key();
        let exemption = policy.exemption(&key).map(str::to_owned);
        if exemption.is_some() {
            used.insert(key);
        }
        not_match.push(Row {
            name: e.name.clone(),
            version: e.version.clone(),
            verdict: label.to_owned(),
            detail,
            denied: policy.denies(label) && exemption.is_none(),
            exemption,
        });
    }
    Summary {
        schema_version: 1,
        total: entries.len(),
        counts,
        gate_failed: not_match.iter().any(|r| r.denied),
        not_match,
        skipped: skipped.to_vec(),
        deny: policy.deny.clone(),
        unused_exemptions: policy
            .exemptions
            .keys()
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect(),
    }
}

/// Make an untrusted string safe for a terminal: control characters are escaped.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[allow(clippy::cast_precision_loss)]
fn percent(n: usize, total: usize) -> String {
    if total == 0 {
        String::new()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / total as f64)
    }
}

/// The plain-text summary.
pub fn human(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<22} {:>7} {:>7}", "verdict", "crates", "share");
    for (k, n) in &s.counts {
        let _ = writeln!(out, "{k:<22} {n:>7} {:>7}", percent(*n, s.total));
    }
    let _ = writeln!(out, "{:<22} {:>7}", "total", s.total);
    if !s.skipped.is_empty() {
        let _ = writeln!(out, "{:<22} {:>7}", "skipped", s.skipped.len());
    }
    if !s.not_match.is_empty() {
        let _ = writeln!(out, "\nnot `match` ({}):", s.not_match.len());
        for r in &s.not_match {
            let mark = if r.denied {
                "  [denied]"
            } else if r.exemption.is_some() {
                "  [exempt]"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {}@{}  {}  {}{mark}",
                clean(&r.name),
                clean(&r.version),
                r.verdict,
                clean(&r.detail)
            );
            if let Some(reason) = &r.exemption {
                let _ = writeln!(out, "      exemption: {}", clean(reason));
            }
        }
    }
    if !s.skipped.is_empty() {
        let _ = writeln!(out, "\nskipped ({}):", s.skipped.len());
        for k in &s.skipped {
            let at = if k.version.is_empty() { "" } else { "@" };
            let _ = writeln!(
                out,
                "  {}{at}{}  {}",
                clean(&k.name),
                clean(&k.version),
                clean(&k.reason)
            );
        }
    }
    for u in &s.unused_exemptions {
        let _ = writeln!(out, "\nwarning: exemption `{}` matches no result", clean(u));
    }
    if !s.deny.is_empty() {
        let denied = s.not_match.iter().filter(|r| r.denied).count();
        let _ = writeln!(
            out,
            "\ngate (deny {}): {}",
            s.deny.join(", "),
            if s.gate_failed {
                format!("failed, {denied} crate version(s) denied")
            } else {
                "passed".to_owned()
            }
        );
    }
    out
}

/// Escape untrusted text for a Markdown table cell (GitHub job summaries, PR comments): HTML
/// is entity-escaped, Markdown syntax backslash-escaped, line breaks removed.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '#' | '!' | '~' | '{' | '}'
            | ':' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The Markdown summary (for CI job summaries and pull-request comments).
pub fn markdown(s: &Summary) -> String {
    let mut out = String::new();
    let ok = s.counts.first().map_or(0, |c| c.1);
    let _ = writeln!(
        out,
        "### crate-provenance: {ok} of {} crate versions match their repository\n",
        s.total
    );
    let _ = writeln!(out, "| verdict | crates | share |\n|---|---:|---:|");
    for (k, n) in &s.counts {
        let _ = writeln!(out, "| `{k}` | {n} | {} |", percent(*n, s.total));
    }
    let _ = writeln!(out, "| **total** | **{}** | |", s.total);
    if !s.deny.is_empty() {
        let _ = writeln!(
            out,
            "\n**Gate** (deny {}): {}",
            s.deny
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if s.gate_failed {
                "❌ failed"
            } else {
                "✅ passed"
            }
        );
    }
    if !s.not_match.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} crate versions are not <code>match</code></summary>\n",
            s.not_match.len()
        );
        let _ = writeln!(
            out,
            "| crate | verdict | detail | gate |\n|---|---|---|---|"
        );
        for r in &s.not_match {
            let gate = if r.denied {
                "denied".to_owned()
            } else if let Some(reason) = &r.exemption {
                format!("exempt: {}", md_escape(reason))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {}@{} | `{}` | {} | {gate} |",
                md_escape(&r.name),
                md_escape(&r.version),
                r.verdict,
                md_escape(&r.detail)
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !s.skipped.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} packages skipped</summary>\n",
            s.skipped.len()
        );
        let _ = writeln!(out, "| package | reason |\n|---|---|");
        for k in &s.skipped {
            let _ = writeln!(
                out,
                "| {} {} | {} |",
                md_escape(&k.name),
                md_escape(&k.version),
                md_escape(&k.reason)
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

/// The JSON summary (one pretty document).
pub fn json(s: &Summary) -> String {
    serde_json::to_string_pretty(s).expect("summary serializes") + "\n"
}
