//! `crate-provenance report --html`: the static site, opened in real headless Chromium.
//!
//! The results file has every verdict and an error; one report carries `<script>` / `onerror`
//! payloads in a path, a diff, a finding, the repository URL and a crate name. Chromium must
//! show one table row per crate version, run the index's own script (sorting/filtering), render
//! the diff page, and run none of the payloads.
//!
//! Chromium: `apt-get install chromium` (or set `CHROMIUM`). Without it the test is skipped,
//! except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use provenance_core::Verdict;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
}

const PWN: &str = "document.body.setAttribute('data-pwned','1')";

fn report(name: &str, verdict: &str, repository: &str) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1,
        "crate": { "name": name, "version": "1.0.0", "sha256": "ab".repeat(32) },
        "source": { "repository": repository, "commit": "cd".repeat(20),
                    "path_in_vcs": "", "dirty": false, "how": "recorded" },
        "verdict": verdict,
        "files": { "published": 4, "compared": 3, "equal": 3 },
        "differences": [],
        "findings": [],
        "assisted": null
    })
}

/// A results file with every verdict, an error, and hostile strings.
fn results(dir: &Path) -> PathBuf {
    let mut lines = Vec::new();
    for v in Verdict::ALL {
        let name = format!("crate-{}", v.as_str().replace('_', "-"));
        let mut r = report(
            &name,
            v.as_str(),
            &format!("https://example.invalid/{name}"),
        );
        if *v == Verdict::Mismatch {
            r["source"]["repository"] = format!("javascript:{PWN}").into();
            r["files"]["equal"] = 2.into();
            r["summary"] = "2 files differ: 1 build_script, 1 other (high)".into();
            r["differences"] = serde_json::json!([
                { "path": format!("src/<script>{PWN}</script>.rs"), "kind": "only_in_published",
                  "published": { "size": 10, "sha256": "ef".repeat(32) } },
                { "path": "src/lib.rs", "kind": "content_differs",
                  "diff": format!("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,2 @@\n fn f() {{}}\n-<img src=x onerror=\"{PWN}\">\n+<script>{PWN}</script>\n"),
                  "published": { "size": 30, "sha256": "01".repeat(32) },
                  "repo": { "size": 31, "sha256": "02".repeat(32) },
                  "category": "other", "severity": "high" }
            ]);
            r["findings"] = serde_json::json!([
                { "kind": "older_cargo_rule", "severity": "info",
                  "message": format!("<iframe src=\"javascript:{PWN}\"></iframe>"), "path": "src/lib.rs" }
            ]);
        }
        lines.push(serde_json::to_string(&r).unwrap());
    }
    lines.push(
        serde_json::json!({
            "schema_version": 1,
            "crate": { "name": format!("evil<svg onload=\"{PWN}\">"), "version": "1.0.0" },
            "error": { "kind": "invalid_archive", "message": format!("<script>{PWN}</script>") }
        })
        .to_string(),
    );
    let p = dir.join("results.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// Whether a payload ran: it sets `data-pwned` on `<body>` (as text it is escaped and quoted
/// with `'`).
fn ran(dom: &str) -> bool {
    let body = dom.find("<body").map_or("", |i| &dom[i..]);
    let tag = &body[..body.find('>').unwrap_or(0)];
    tag.contains("data-pwned") || dom.contains("data-pwned=\"")
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn headless(bin: &Path, profile: &Path, args: &[&str], url: &str) -> Vec<u8> {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn html_report_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let results = results(tmp.path());
    let site = tmp.path().join("site");
    let out = cli()
        .args(["report", results.to_str().unwrap(), "--html"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    // Static checks: escaped everywhere, no external resources, no `javascript:` links.
    for page in std::fs::read_dir(site.join("crates"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .chain([index.clone()])
    {
        assert!(!page.contains("<script>document"), "unescaped payload");
        assert!(!page.contains("<img src=x"), "unescaped payload");
        assert!(!page.contains("<svg"), "unescaped payload");
        assert!(!page.contains("href=\"javascript"), "javascript: link");
        assert!(!page.contains("src=\"http"), "external resource");
        assert!(
            !page.contains("href=\"http") || !page.contains("<link"),
            "external css"
        );
    }
    assert_eq!(std::fs::read_dir(site.join("crates")).unwrap().count(), 11);
    // Differences by severity, high first: `src/lib.rs` (high) before the unclassified one
    // listed first in the report.
    let mismatch = std::fs::read_to_string(site.join("crates/crate-mismatch@1.0.0.html")).unwrap();
    let high = mismatch.find("<code>src/lib.rs</code>").unwrap();
    let other = mismatch.find("<code>src/&lt;script&gt;").unwrap();
    assert!(high < other, "{mismatch}");

    let Some(bin) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is required under CI=true (apt-get install chromium)"
        );
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let url = |p: &str| format!("file://{}/{p}", site.display());

    // The index, after its script ran.
    let dom = String::from_utf8(headless(
        &bin,
        &tmp.path().join("p1"),
        &["--dump-dom"],
        &url("index.html"),
    ))
    .unwrap();
    assert!(
        dom.contains("data-ready=\"1\""),
        "the index script did not run:\n{dom}"
    );
    assert!(!ran(&dom), "a payload ran:\n{dom}");
    let body = &dom[dom.find("<table id=\"results\"").unwrap()..];
    let rows = body.matches("<tr data-verdict=").count();
    assert_eq!(rows, Verdict::ALL.len() + 1, "{body}");
    for v in Verdict::ALL {
        assert!(body.contains(&format!("<tr data-verdict=\"{}\"", v.as_str())));
    }
    assert!(body.contains("<tr data-verdict=\"error\""));
    assert!(
        dom.contains("evil&lt;svg onload="),
        "the hostile name is shown as text"
    );

    // Filtering by verdict (from the URL fragment): all rows but one are hidden.
    let dom = String::from_utf8(headless(
        &bin,
        &tmp.path().join("p2"),
        &["--dump-dom"],
        &url("index.html#verdict=mismatch"),
    ))
    .unwrap();
    let body = &dom[dom.find("<table id=\"results\"").unwrap()..];
    assert_eq!(
        body.matches(" hidden=\"\"").count(),
        Verdict::ALL.len(),
        "{body}"
    );
    assert!(dom.contains("<span id=\"shown\">1</span>"), "{dom}");

    // The diff page.
    let page = url("crates/crate-mismatch@1.0.0.html");
    let dom = String::from_utf8(headless(
        &bin,
        &tmp.path().join("p3"),
        &["--dump-dom"],
        &page,
    ))
    .unwrap();
    assert!(!ran(&dom), "a payload ran:\n{dom}");
    assert!(dom.contains("<pre class=\"diff\">"), "{dom}");
    assert!(
        dom.contains("<span class=\"a\">+&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;</span>"),
        "{dom}"
    );
    assert!(
        dom.contains("<span class=\"d\">-&lt;img src=x onerror="),
        "{dom}"
    );
    assert!(dom.contains("<code>src/&lt;script&gt;"), "{dom}");
    assert!(dom.contains("&lt;iframe src="), "{dom}");
    assert!(!dom.contains("<a href=\"javascript"), "{dom}");
    assert!(!dom.contains("<iframe"), "{dom}");
    assert!(
        dom.contains("2 files differ: 1 build_script, 1 other (high)"),
        "{dom}"
    );

    // Screenshots of the index and the diff page.
    for (name, u) in [("index.png", url("index.html")), ("crate.png", page)] {
        let png = tmp.path().join(name);
        headless(
            &bin,
            &tmp.path().join(format!("s-{name}")),
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1200,800",
            ],
            &u,
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5_000,
            "{name}"
        );
        if let Some(dir) = std::env::var_os("CRATE_PROVENANCE_SCREENSHOTS") {
            std::fs::copy(&png, Path::new(&dir).join(name)).unwrap();
        }
    }
}

/// The index of 1,000 crate versions stays under 1 MB.
#[test]
fn index_of_a_thousand_crates_is_small() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for i in 0..1000 {
        let v = Verdict::ALL[i % Verdict::ALL.len()];
        let r = report(
            &format!("some-crate-name-{i}"),
            v.as_str(),
            &format!("https://github.com/some-organisation/some-repository-{i}"),
        );
        lines.push_str(&serde_json::to_string(&r).unwrap());
        lines.push('\n');
    }
    let results = tmp.path().join("r.jsonl");
    std::fs::write(&results, lines).unwrap();
    let site = tmp.path().join("site");
    let out = cli()
        .args(["report", results.to_str().unwrap(), "--html"])
        .arg(&site)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let size = std::fs::metadata(site.join("index.html")).unwrap().len();
    assert!(size < 1_000_000, "index.html is {size} bytes");
    assert_eq!(
        std::fs::read_dir(site.join("crates")).unwrap().count(),
        1000
    );
}
