//! `crate-provenance report --html DIR`: a static site from a results file (or a watch
//! database, whose charts and timelines `src/watch/site.rs` adds).
//!
//! `index.html` holds the verdict counts and one table row per crate version (sortable and
//! filterable by a small inline script; the page works from `file://` and loads nothing from
//! elsewhere); `crates/<name>@<version>.html` shows one result: its source, findings and every
//! difference with its unified diff.
//!
//! Everything that comes from a result (names, versions, paths, diffs, URLs, messages) is
//! attacker-controlled and goes through [`escape`]; links are only made for `http(s)` URLs.
//! As a second line of defence every page carries a Content-Security-Policy that allows no
//! script but the index's own (by hash), so markup that slipped through could not run.

mod content;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use provenance_core::fetch::Cache;
use provenance_core::{Difference, DifferenceKind, Report};
use sha2::Digest;

use crate::scan::results::{Entry, Outcome};
use crate::scan::summary::Summary;

/// Escape text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A link target for an untrusted URL: only `http://` and `https://`, escaped.
fn href(url: &str) -> Option<String> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        .then(|| escape(url.trim_start()))
}

/// A file name for a crate page: `NAME@VERSION` with anything but `[A-Za-z0-9._+@-]` replaced.
pub fn slug(name: &str, version: &str) -> String {
    let raw = format!("{name}@{version}");
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    if s.starts_with('.') {
        s.replace_range(0..1, "_");
    }
    s
}

/// Percent-encode a file name for use in an `href`.
pub fn url_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}code,pre{font:12px/1.4 ui-monospace,monospace}\
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}#results th{cursor:pointer;user-select:none}#results th[data-dir=asc]::after{content:' \\25B2'}\
#results th[data-dir=desc]::after{content:' \\25BC'}td.n,th.n{text-align:right}\
.v{display:inline-block;padding:0 6px;border-radius:3px;background:#eee;font-family:ui-monospace,monospace;font-size:12px}\
.v-match{background:#d9f2d9}.v-mismatch,.v-error{background:#f8d0d0}.v-match_but_symlinks{background:#eef5d0}\
.v-revision_not_found,.v-path_not_found,.v-package_error,.v-submodule_unavailable{background:#fbe3c4}\
.v-repository_not_found,.v-no_vcs_info,.v-no_repository{background:#e4e4ef}\
#results{width:100%}#results td:nth-child(4){word-break:break-all}.controls{margin:1em 0}.controls input{width:24em}\
pre.diff{background:#fafafa;border:1px solid #ddd;padding:6px;overflow:auto;max-height:40em}\
.diff .a{background:#e6ffe6;display:block}.diff .d{background:#ffe8e8;display:block}.diff .h{color:#06c;display:block}\
.diff .f{font-weight:bold;display:block}.muted{color:#777}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}\
dt{font-weight:bold}dd{margin:0;word-break:break-all}\
pre.content{background:#fffbea;border:1px solid #e5d9a8;padding:6px;overflow:auto;max-height:40em}";

const SCRIPT: &str = r"(function(){
var t=document.getElementById('results'),b=t.tBodies[0],q=document.getElementById('q'),s=document.getElementById('verdict'),n=document.getElementById('shown');
function f(){var x=q.value.toLowerCase(),v=s.value,c=0;for(var r of b.rows){var ok=(!v||r.dataset.verdict===v)&&(!x||r.textContent.toLowerCase().indexOf(x)>=0);r.hidden=!ok;if(ok)c++}n.textContent=c}
function h(){var p=new URLSearchParams(location.hash.slice(1));s.value=p.get('verdict')||'';q.value=p.get('q')||'';f()}
q.addEventListener('input',f);s.addEventListener('change',f);window.addEventListener('hashchange',h);
var hs=t.tHead.rows[0].cells;
for(var i=0;i<hs.length;i++){(function(i){hs[i].addEventListener('click',function(){var d=this.dataset.dir==='asc'?'desc':'asc';for(var k of hs)delete k.dataset.dir;this.dataset.dir=d;var num=this.classList.contains('n');var rows=Array.from(b.rows);
rows.sort(function(a,c){var x=a.cells[i].dataset.sort||a.cells[i].textContent,y=c.cells[i].dataset.sort||c.cells[i].textContent;var r=num?x-y:x.localeCompare(y,undefined,{numeric:true});return d==='asc'?r:-r});
for(var r of rows)b.appendChild(r)})})(i)}
h();document.body.dataset.ready='1';})();";

/// The page head: `<!DOCTYPE>` … `<body>` with the site's style and `csp`.
pub fn head(out: &mut String, title: &str, csp: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\
<meta name=\"referrer\" content=\"no-referrer\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head>\n<body>\n",
        escape(title)
    );
}

/// A verdict (or `error`) as a coloured badge.
pub fn verdict_badge(label: &str) -> String {
    format!("<span class=\"v v-{label}\">{label}</span>")
}

/// Write the site into `dir`; returns the number of crate pages. `index_extra` (trusted HTML,
/// built from escaped parts) goes into the index after the verdict counts (`report --db` puts
/// its charts and timeline links there; empty for a results file).
/// The content of files only in the published crate is read from `.crate`s in `cache`
/// ([`content`]).
pub fn write_site_with(
    dir: &Path,
    entries: &[Entry],
    summary: &Summary,
    index_extra: &str,
    cache: Option<&Cache>,
) -> Result<usize, String> {
    let crates_dir = dir.join("crates");
    std::fs::create_dir_all(&crates_dir)
        .map_err(|e| format!("cannot create `{}`: {e}", crates_dir.display()))?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
    };
    let mut used = HashSet::new();
    let mut pages = Vec::with_capacity(entries.len());
    for e in entries {
        let base = slug(&e.name, &e.version);
        let mut name = base.clone();
        let mut n = 2;
        while !used.insert(name.to_ascii_lowercase()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        let file = format!("{name}.html");
        write(&crates_dir.join(&file), &crate_page(e, cache))?;
        pages.push(file);
    }
    write(
        &dir.join("index.html"),
        &index_page(entries, &pages, summary, index_extra),
    )?;
    Ok(pages.len())
}

fn label(e: &Entry) -> &str {
    match &e.outcome {
        Outcome::Report(r) => r.verdict.as_str(),
        Outcome::Error { .. } => "error",
    }
}

#[allow(clippy::cast_precision_loss)]
fn index_page(entries: &[Entry], pages: &[String], summary: &Summary, extra: &str) -> String {
    let hash = base64(&sha2::Sha256::digest(SCRIPT.as_bytes()));
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'"
    );
    let mut out = String::with_capacity(4096 + entries.len() * 320);
    head(&mut out, "crate-provenance report", &csp);
    let matched = summary.counts.first().map_or(0, |c| c.1);
    let _ = write!(
        out,
        "<h1>crate-provenance report</h1>\n<p>{matched} of {} crate versions match their repository.</p>\n",
        summary.total
    );
    out.push_str("<table id=\"counts\"><thead><tr><th>verdict</th><th class=\"n\">crates</th><th class=\"n\">share</th></tr></thead><tbody>\n");
    for (k, n) in &summary.counts {
        let share = if summary.total == 0 {
            String::new()
        } else {
            format!("{:.1}%", *n as f64 * 100.0 / summary.total as f64)
        };
        let _ = writeln!(
            out,
            "<tr data-verdict=\"{k}\"><td><a href=\"#verdict={k}\">{}</a></td><td class=\"n\">{n}</td><td class=\"n\">{share}</td></tr>",
            verdict_badge(k)
        );
    }
    let _ = writeln!(
        out,
        "<tr><td><a href=\"#\"><b>total</b></a></td><td class=\"n\"><b>{}</b></td><td></td></tr></tbody></table>",
        summary.total
    );
    if !summary.deny.is_empty() {
        let denied = summary.not_match.iter().filter(|r| r.denied).count();
        let _ = writeln!(
            out,
            "<p id=\"gate\">gate (deny {}): <b>{}</b></p>",
            escape(&summary.deny.join(", ")),
            if summary.gate_failed {
                format!("failed, {denied} denied")
            } else {
                "passed".to_owned()
            }
        );
    }
    out.push_str(extra);
    out.push_str("<div class=\"controls\"><input id=\"q\" type=\"search\" placeholder=\"filter: name, version, repository…\" aria-label=\"filter\"> <select id=\"verdict\" aria-label=\"verdict\"><option value=\"\">all verdicts</option>");
    for (k, n) in &summary.counts {
        if *n > 0 {
            let _ = write!(out, "<option value=\"{k}\">{k}</option>");
        }
    }
    let _ = writeln!(
        out,
        "</select> <span class=\"muted\"><span id=\"shown\">{}</span> shown</span></div>",
        entries.len()
    );
    out.push_str("<table id=\"results\"><thead><tr><th>crate</th><th>version</th><th>verdict</th><th>repository</th><th>commit</th><th class=\"n\">differences</th><th class=\"n\">findings</th></tr></thead><tbody>\n");
    for (e, page) in entries.iter().zip(pages) {
        let l = label(e);
        let (repo, commit, diffs, findings) = match &e.outcome {
            Outcome::Report(r) => (
                r.source.repository.clone().unwrap_or_default(),
                r.source.commit.clone().unwrap_or_default(),
                r.differences.len().to_string(),
                r.findings.len().to_string(),
            ),
            Outcome::Error { kind, .. } => {
                (String::new(), kind.clone(), String::new(), String::new())
            }
        };
        let short: String = commit.chars().take(10).collect();
        let _ = writeln!(
            out,
            "<tr data-verdict=\"{l}\"><td><a href=\"crates/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{diffs}</td><td class=\"n\">{findings}</td></tr>",
            url_path(page),
            escape(&e.name),
            escape(&e.version),
            verdict_badge(l),
            escape(&repo),
            escape(&short),
        );
    }
    out.push_str("</tbody></table>\n");
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn render_diff(out: &mut String, diff: &str) {
    out.push_str("<pre class=\"diff\">");
    for line in diff.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            "f"
        } else if line.starts_with("@@") {
            "h"
        } else if line.starts_with('+') {
            "a"
        } else if line.starts_with('-') {
            "d"
        } else {
            ""
        };
        if class.is_empty() {
            let _ = writeln!(out, "{}", escape(line));
        } else {
            let _ = write!(out, "<span class=\"{class}\">{}</span>", escape(line));
        }
    }
    out.push_str("</pre>\n");
}

/// The differences, most severe first (`high`, `medium`, `low`, `info`, then unclassified);
/// the report's order within a severity.
fn differences(
    out: &mut String,
    diffs: &[Difference],
    contents: &BTreeMap<String, content::Content>,
) {
    let mut ordered: Vec<&Difference> = diffs.iter().collect();
    ordered.sort_by_key(|d| std::cmp::Reverse(d.severity));
    for d in ordered {
        let name = |v: Option<serde_json::Value>| {
            v.and_then(|v| {
                v.as_str()
                    .map(|s| format!(" <span class=\"v\">{}</span>", escape(s)))
            })
            .unwrap_or_default()
        };
        let category = name(d.category.and_then(|c| serde_json::to_value(c).ok()));
        let severity = name(d.severity.and_then(|c| serde_json::to_value(c).ok()));
        let _ = write!(
            out,
            "<section class=\"difference\"><h3><code>{}</code> <span class=\"v\">{}</span>{category}{severity}</h3>\n<dl>",
            escape(&d.path),
            d.kind.as_str()
        );
        if let Some(p) = &d.repo_path {
            let _ = write!(
                out,
                "<dt>repository path</dt><dd><code>{}</code></dd>",
                escape(p)
            );
        }
        if let Some(p) = &d.published {
            let _ = write!(
                out,
                "<dt>published</dt><dd>{} bytes, sha256 <code>{}</code></dd>",
                p.size,
                escape(&p.sha256)
            );
        }
        if let Some(r) = &d.repo {
            let _ = write!(
                out,
                "<dt>repository</dt><dd>{} bytes, sha256 <code>{}</code></dd>",
                r.size,
                escape(&r.sha256)
            );
        }
        out.push_str("</dl>\n");
        if d.kind == DifferenceKind::OnlyInPublished
            && let Some(c) = contents.get(&d.path)
        {
            content::render(out, c);
        }
        if let Some(diff) = &d.diff {
            render_diff(out, diff);
        }
        out.push_str("</section>\n");
    }
}

fn report_body(out: &mut String, r: &Report, contents: &BTreeMap<String, content::Content>) {
    let repo = r.source.repository.as_deref().unwrap_or("");
    let repo_html = match href(repo) {
        Some(h) => format!(
            "<a href=\"{h}\" rel=\"noopener noreferrer nofollow\">{}</a>",
            escape(repo)
        ),
        None if repo.is_empty() => "<span class=\"muted\">none</span>".to_owned(),
        None => format!("<code>{}</code>", escape(repo)),
    };
    let how = serde_json::to_value(r.source.how)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<h2>Source</h2><dl id=\"source\"><dt>repository</dt><dd>{repo_html}</dd>\
<dt>commit</dt><dd><code>{}</code></dd><dt>path</dt><dd><code>{}</code></dd>\
<dt>how</dt><dd>{}</dd><dt>dirty</dt><dd>{}</dd><dt>crate sha256</dt><dd><code>{}</code></dd>\
<dt>files</dt><dd>{} published, {} compared, {} equal</dd></dl>",
        escape(r.source.commit.as_deref().unwrap_or("")),
        escape(r.source.path_in_vcs.as_deref().unwrap_or("")),
        escape(&how),
        r.source.dirty,
        escape(&r.krate.sha256),
        r.files.published,
        r.files.compared,
        r.files.equal,
    );
    if !r.summary.is_empty() {
        let _ = writeln!(out, "<p id=\"summary\">{}</p>", escape(&r.summary));
    }
    let _ = writeln!(out, "<h2>Findings ({})</h2>", r.findings.len());
    if !r.findings.is_empty() {
        out.push_str("<table id=\"findings\"><thead><tr><th>kind</th><th>severity</th><th>message</th><th>path</th></tr></thead><tbody>\n");
        for f in &r.findings {
            let sev = serde_json::to_value(f.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&f.kind),
                escape(&sev),
                escape(&f.message),
                escape(f.path.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let _ = writeln!(out, "<h2>Differences ({})</h2>", r.differences.len());
    if !r.differences.is_empty() {
        out.push_str("<p class=\"muted\">diffs: <code>-</code> = repository, <code>+</code> = published</p>\n");
    }
    differences(out, &r.differences, contents);
    if let Some(a) = &r.assisted {
        let _ = writeln!(
            out,
            "<h2>Assisted attempt</h2><dl id=\"assisted\"><dt>how</dt><dd>{}</dd><dt>ref</dt><dd><code>{}</code></dd>\
<dt>commit</dt><dd><code>{}</code></dd><dt>verdict</dt><dd>{}</dd><dt>path</dt><dd><code>{}</code></dd></dl>",
            escape(&a.how),
            escape(&a.reference),
            escape(&a.commit),
            verdict_badge(a.verdict.as_str()),
            escape(&a.path_in_vcs)
        );
        differences(out, &a.differences, &BTreeMap::new());
    }
    let json = serde_json::to_string_pretty(r).unwrap_or_default();
    let _ = writeln!(
        out,
        "<h2>JSON</h2><details><summary>report</summary><pre>{}</pre></details>",
        escape(&json)
    );
}

fn crate_page(e: &Entry, cache: Option<&Cache>) -> String {
    let mut out = String::new();
    let title = format!("{} {} — crate-provenance", e.name, e.version);
    head(
        &mut out,
        &title,
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    );
    let l = label(e);
    let _ = writeln!(
        out,
        "<p><a href=\"../index.html\">← all crates</a></p>\n<h1><span id=\"name\">{}</span> <span id=\"version\">{}</span> {}</h1>",
        escape(&e.name),
        escape(&e.version),
        verdict_badge(l)
    );
    match &e.outcome {
        Outcome::Report(r) => {
            report_body(&mut out, r, &content::only_in_published(r, cache));
        }
        Outcome::Error { kind, message } => {
            let _ = writeln!(
                out,
                "<h2>Error</h2><dl id=\"error\"><dt>kind</dt><dd><code>{}</code></dd><dt>message</dt><dd>{}</dd></dl>",
                escape(kind),
                escape(message)
            );
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(href("javascript:alert(1)"), None);
        assert_eq!(href(" JavaScript:alert(1)"), None);
        assert_eq!(
            href("https://x/\"><script>").as_deref(),
            Some("https://x/&quot;&gt;&lt;script&gt;")
        );
        assert_eq!(slug("../x", "1.0.0+<b>"), "_._x@1.0.0__b_");
        assert_eq!(url_path("a b@1.0"), "a%20b@1.0");
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
