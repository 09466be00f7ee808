//! `crate-provenance report --db PATH [--html DIR]`: the report of a watch database.
//!
//! The entries are each version's latest verification (the same pages as a results file gets);
//! with `--html` the index also shows two inline-SVG charts — verdict shares by publication
//! year, and differences by category — and links to one timeline page per crate
//! (`timelines/NAME.html`): every version in publication order with the verdict of each of
//! its verifications over time, and yanks. No script, nothing loaded from elsewhere; every
//! string from the database is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use provenance_core::batch::{Entry, Outcome};

use super::db::Db;
use crate::report_html::{escape, head, slug, url_path, verdict_badge};

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// One version row of the database.
struct Version {
    number: String,
    published: Option<String>,
    first_seen: String,
    yanked: bool,
    status: String,
    /// (time, verdict or `error`) of every verification, oldest first.
    history: Vec<(String, String)>,
}

/// Each version's latest verification, by name and version.
pub fn entries(db: &Db) -> Result<Vec<Entry>, String> {
    let mut st = db
        .conn()
        .prepare(
            "SELECT v.report FROM verifications v
             WHERE v.id = (SELECT MAX(w.id) FROM verifications w WHERE w.name = v.name AND w.version = v.version)
             ORDER BY v.name, v.version",
        )
        .map_err(|e| e.to_string())?;
    let lines: Vec<String> = st
        .query_map([], |r| r.get(0))
        .and_then(Iterator::collect)
        .map_err(|e| e.to_string())?;
    lines
        .iter()
        .map(|l| Entry::parse(l).map_err(|e| format!("a stored report does not parse: {e}")))
        .collect()
}

fn versions(db: &Db) -> Result<BTreeMap<String, Vec<Version>>, String> {
    let conn = db.conn();
    let mut out: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    let mut st = conn
        .prepare(
            "SELECT c.display_name, v.version, v.published, v.first_seen, v.yanked, v.status
             FROM versions v JOIN crates c ON c.name = v.name
             ORDER BY c.display_name, COALESCE(v.published, v.first_seen), v.version",
        )
        .map_err(|e| e.to_string())?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Version {
                    number: r.get(1)?,
                    published: r.get(2)?,
                    first_seen: r.get(3)?,
                    yanked: r.get::<_, i64>(4)? != 0,
                    status: r.get(5)?,
                    history: Vec::new(),
                },
            ))
        })
        .map_err(|e| e.to_string())?;
    for row in rows {
        let (name, v) = row.map_err(|e| e.to_string())?;
        out.entry(name).or_default().push(v);
    }
    let mut st = conn
        .prepare(
            "SELECT c.display_name, w.version, w.verified_at, COALESCE(w.verdict, 'error')
             FROM verifications w JOIN crates c ON c.name = w.name ORDER BY w.id",
        )
        .map_err(|e| e.to_string())?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    for row in rows {
        let (name, version, at, verdict) = row.map_err(|e| e.to_string())?;
        if let Some(v) = out
            .get_mut(&name)
            .and_then(|vs| vs.iter_mut().find(|v| v.number == version))
        {
            v.history.push((at, verdict));
        }
    }
    Ok(out)
}

/// The chart colour of a verdict (or `error`, or `unverified`).
fn colour(verdict: &str) -> &'static str {
    match verdict {
        "match" => "#2e9d4a",
        "match_but_symlinks" => "#9bbf3a",
        "mismatch" => "#d33a3a",
        "error" => "#8b1a1a",
        "revision_not_found" | "path_not_found" | "package_error" | "submodule_unavailable" => {
            "#e8952e"
        }
        "repository_not_found" | "no_vcs_info" | "no_repository" => "#8888b0",
        _ => "#c8c8c8",
    }
}

fn label(e: &Entry) -> &str {
    match &e.outcome {
        Outcome::Report(r) => r.verdict.as_str(),
        Outcome::Error { .. } => "error",
    }
}

/// A chart of one 100 % bar per row, split by verdict.
#[allow(clippy::cast_precision_loss)]
fn stacked(id: &str, rows: &BTreeMap<String, BTreeMap<String, usize>>) -> String {
    const W: f64 = 600.0;
    let mut svg = String::new();
    let h = 24 * rows.len().max(1) + 4;
    let _ = write!(
        svg,
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"820\" height=\"{h}\" role=\"img\">"
    );
    for (i, (row, counts)) in rows.iter().enumerate() {
        let y = 24 * i + 2;
        let total: usize = counts.values().sum();
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 15,
            escape(row)
        );
        let mut x = 100.0;
        for (verdict, n) in counts {
            let w = W * *n as f64 / total.max(1) as f64;
            let _ = write!(
                svg,
                "<rect class=\"seg\" x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{}\"><title>{} {}: {n} of {total} ({:.1}%)</title></rect>",
                colour(verdict),
                escape(row),
                escape(verdict),
                *n as f64 * 100.0 / total.max(1) as f64
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\">{total}</text>",
            W + 108.0,
            y + 15
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A chart of one bar per row, scaled to the largest.
#[allow(clippy::cast_precision_loss)]
fn bars(id: &str, rows: &BTreeMap<String, usize>) -> String {
    let max = rows.values().copied().max().unwrap_or(1).max(1);
    let h = 24 * rows.len().max(1) + 4;
    let mut svg = format!(
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"820\" height=\"{h}\" role=\"img\">"
    );
    for (i, (row, n)) in rows.iter().enumerate() {
        let y = 24 * i + 2;
        let w = 500.0 * *n as f64 / max as f64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect class=\"bar\" x=\"200\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"#5577aa\"><title>{}: {n}</title></rect><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{n}</text>",
            y + 15,
            escape(row),
            escape(row),
            206.0 + w,
            y + 15
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The file name of a crate's timeline page.
fn timeline_file(name: &str) -> String {
    let s = slug(name, "");
    format!("{}.html", s.trim_end_matches('@'))
}

/// Write `DIR/timelines/*.html` and return the index's extra section (charts, timeline links).
pub fn write_extras(db: &Db, entries: &[Entry], dir: &Path) -> Result<String, String> {
    let versions = versions(db)?;
    let latest: BTreeMap<(String, String), &str> = entries
        .iter()
        .map(|e| ((e.name.to_ascii_lowercase(), e.version.clone()), label(e)))
        .collect();
    let mut by_year: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (name, vs) in &versions {
        for v in vs {
            let Some(verdict) = latest.get(&(name.to_ascii_lowercase(), v.number.clone())) else {
                continue;
            };
            let year = v
                .published
                .as_deref()
                .and_then(|p| p.get(..4))
                .unwrap_or("unknown")
                .to_owned();
            *by_year
                .entry(year)
                .or_default()
                .entry((*verdict).to_owned())
                .or_default() += 1;
        }
    }
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    for e in entries {
        if let Outcome::Report(r) = &e.outcome {
            for d in &r.differences {
                let c = d.category.map_or("unclassified", |c| c.as_str());
                *by_category.entry(c.to_owned()).or_default() += 1;
            }
        }
    }
    let mut out = String::from("<h2>Verdicts by publication year</h2>\n");
    out.push_str(&stacked("by-year", &by_year));
    out.push_str("\n<h2>Differences by category</h2>\n");
    if by_category.is_empty() {
        out.push_str("<p class=\"muted\">no differences</p>\n");
    } else {
        out.push_str(&bars("by-category", &by_category));
    }
    out.push_str("\n<h2>Timelines</h2>\n<ul id=\"timelines\">");
    let tdir = dir.join("timelines");
    std::fs::create_dir_all(&tdir)
        .map_err(|e| format!("cannot create `{}`: {e}", tdir.display()))?;
    for (name, vs) in &versions {
        let file = timeline_file(name);
        let page = timeline_page(name, vs);
        std::fs::write(tdir.join(&file), page)
            .map_err(|e| format!("cannot write `{}`: {e}", tdir.join(&file).display()))?;
        let _ = write!(
            out,
            "<li><a href=\"timelines/{}\">{}</a> ({} versions)</li>",
            url_path(&file),
            escape(name),
            vs.len()
        );
    }
    out.push_str("</ul>\n");
    Ok(out)
}

fn timeline_page(name: &str, vs: &[Version]) -> String {
    let mut out = String::new();
    head(
        &mut out,
        &format!("{name} — timeline — crate-provenance"),
        CSP,
    );
    let _ = writeln!(
        out,
        "<p><a href=\"../index.html\">← all crates</a></p>\n<h1 id=\"name\">{}</h1>",
        escape(name)
    );
    // The strip: one square per version in publication order, coloured by its latest verdict.
    let w = 18 * vs.len().max(1) + 4;
    let _ = write!(
        out,
        "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"30\" role=\"img\">"
    );
    for (i, v) in vs.iter().enumerate() {
        let verdict = v.history.last().map_or(
            if v.status == "history" {
                "history"
            } else {
                "unverified"
            },
            |h| h.1.as_str(),
        );
        let stroke = if v.yanked {
            " stroke=\"#000\" stroke-dasharray=\"2\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<rect class=\"version\" x=\"{}\" y=\"4\" width=\"14\" height=\"22\" fill=\"{}\"{stroke}><title>{} {}{}</title></rect>",
            2 + 18 * i,
            colour(verdict),
            escape(&v.number),
            escape(verdict),
            if v.yanked { " (yanked)" } else { "" }
        );
    }
    out.push_str("</svg>\n");
    out.push_str("<table id=\"versions\"><thead><tr><th>version</th><th>published</th><th>first seen</th><th>yanked</th><th>verdicts over time</th></tr></thead><tbody>\n");
    for v in vs {
        let history = if v.history.is_empty() {
            format!("<span class=\"muted\">{}</span>", escape(&v.status))
        } else {
            v.history
                .iter()
                .map(|(at, verdict)| {
                    format!(
                        "{} <span class=\"muted\">{}</span>",
                        verdict_badge(&escape(verdict)),
                        escape(at)
                    )
                })
                .collect::<Vec<_>>()
                .join(" → ")
        };
        let version = if v.history.is_empty() {
            escape(&v.number)
        } else {
            format!(
                "<a href=\"../crates/{}.html\">{}</a>",
                url_path(&slug(name, &v.number)),
                escape(&v.number)
            )
        };
        let _ = writeln!(
            out,
            "<tr><td>{version}</td><td>{}</td><td>{}</td><td>{}</td><td>{history}</td></tr>",
            escape(v.published.as_deref().unwrap_or("")),
            escape(&v.first_seen),
            if v.yanked { "yes" } else { "" }
        );
    }
    out.push_str("</tbody></table>\n</body></html>\n");
    out
}
