//! The GitHub Action (action.yml): the script its scan step runs (scripts/github-action.sh),
//! run as the runner would — inputs in `INPUT_*`, `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`
//! files, `cargo` and `cargo-provenance` on PATH — on the fixture workspace (loopback registry
//! and git daemon); and the action's and the example workflow's structure.

mod world;

use std::path::Path;
use std::process::{Command, Output};

use world::{World, text};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run the action's scan step in the workspace with the given inputs.
fn step(w: &World, deny: &str, sarif: &str, tag: &str) -> (Output, String, String) {
    let summary = w.path(&format!("summary-{tag}.md"));
    let outputs = w.path(&format!("outputs-{tag}.txt"));
    // The runner appends to these files; an earlier step may have written to them.
    std::fs::write(&summary, "earlier step\n").unwrap();
    std::fs::write(&outputs, "").unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cargo-provenance"))
        .parent()
        .unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let args = w.registry_args(&format!("cache-{tag}")).join(" ")
        + &format!(" --out r-{tag}.jsonl --jobs 2");
    let out = Command::new("bash")
        .arg(repo().join("scripts/github-action.sh"))
        .current_dir(w.ws())
        .env("PATH", path)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("INPUT_DENY", deny)
        .env("INPUT_ARGS", args)
        .env("INPUT_SARIF", sarif)
        .env_remove("CI")
        .output()
        .unwrap();
    (
        out,
        std::fs::read_to_string(summary).unwrap(),
        std::fs::read_to_string(outputs).unwrap(),
    )
}

#[test]
fn action_script_writes_summary_outputs_and_sarif() {
    let w = World::new();

    // The workspace's provenance.toml denies mismatch and error: gamma and eps fail the gate.
    let (out, summary, outputs) = step(&w, "", "reports/provenance.sarif", "policy");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(summary.starts_with("earlier step\n"), "{summary}");
    assert!(
        summary.contains("### crate-provenance: 2 of 6 crate versions match their repository"),
        "{summary}"
    );
    assert!(
        summary.contains("**Gate** (deny `mismatch`, `revision_not_found`, `error`): ❌ failed"),
        "{summary}"
    );
    assert!(
        summary.contains("| gamma@1.0.0 | `mismatch` |"),
        "{summary}"
    );
    assert_eq!(outputs, "exit-code=1\nsarif=reports/provenance.sarif\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=crate-provenance::a crate version has a denied verdict"),
        "{stdout}"
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.ws().join("reports/provenance.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "verdict/mismatch"),
        "{sarif:#}"
    );

    // `deny` replaces the policy's list: nothing here is `no_vcs_info`, the job passes.
    let (out, summary, outputs) = step(&w, "no_vcs_info", "", "deny");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        summary.contains("(deny `no_vcs_info`): ✅ passed"),
        "{summary}"
    );
    assert_eq!(
        outputs, "exit-code=0\nsarif=\n",
        "no SARIF asked, none uploaded"
    );

    // A tool error (an unknown verdict) is reported as such, with exit status 2.
    let (out, summary, outputs) = step(&w, "bogus", "x.sarif", "error");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        summary.contains("the scan failed (exit status 2)"),
        "{summary}"
    );
    assert_eq!(outputs, "exit-code=2\nsarif=\n");
}

#[test]
fn action_script_needs_the_runner_files() {
    let out = Command::new("bash")
        .arg(repo().join("scripts/github-action.sh"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GITHUB_STEP_SUMMARY is not set"),
        "{}",
        text(&out)
    );
}

#[test]
fn action_and_example_workflow_structure() {
    let action = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    for needle in [
        "using: composite",
        "cargo install --locked --path \"$GITHUB_ACTION_PATH\"",
        "run: bash \"$GITHUB_ACTION_PATH/scripts/github-action.sh\"",
        "INPUT_DENY: ${{ inputs.deny }}",
        "INPUT_ARGS: ${{ inputs.args }}",
        "INPUT_SARIF: ${{ inputs.sarif }}",
        "uses: github/codeql-action/upload-sarif@v3",
        "sarif_file: ${{ steps.scan.outputs.sarif }}",
    ] {
        assert!(action.contains(needle), "action.yml lacks {needle}");
    }
    // Inputs never appear inside a `run:` script (script injection).
    for line in action
        .lines()
        .filter(|l| l.trim_start().starts_with("run:"))
    {
        assert!(!line.contains("${{"), "{line}");
    }
    let example = std::fs::read_to_string(repo().join("examples/github/provenance.yml")).unwrap();
    assert!(example.contains("security-events: write"));
    assert!(example.contains("deny: mismatch,revision_not_found"));
    // Both parse as YAML where PyYAML is installed (it is on the development machines and CI).
    let parse = Command::new("python3")
        .args([
            "-c",
            "import sys, yaml\nfor p in sys.argv[1:]:\n    d = yaml.safe_load(open(p))\n    assert isinstance(d, dict), p\nprint('ok')",
        ])
        .arg(repo().join("action.yml"))
        .arg(repo().join("examples/github/provenance.yml"))
        .output();
    if let Ok(out) = parse
        && !String::from_utf8_lossy(&out.stderr).contains("No module named 'yaml'")
    {
        assert!(out.status.success(), "{}", text(&out));
    }
}
