//! Every JSON document the CLI prints (all verdict snapshots, error documents) validates against
//! the committed JSON Schema `schema/report.v1.json`, and the schema rejects malformed reports.

mod support;

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(support::repo_root().join("schema/report.v1.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

fn snapshot_json_documents() -> Vec<(String, serde_json::Value)> {
    let dir = support::repo_root().join("tests/snapshots");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with("_json.snap") || name.contains("list_files") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        // insta header: `---` ... `---`, then the content.
        let body = text.splitn(3, "---\n").nth(2).unwrap();
        out.push((name, serde_json::from_str(body).unwrap()));
    }
    out
}

#[test]
fn every_cli_json_snapshot_validates() {
    let v = validator();
    let docs = snapshot_json_documents();
    assert!(
        docs.len() >= 11,
        "expected a JSON snapshot per verdict, found {}",
        docs.len()
    );
    let mut verdicts = std::collections::BTreeSet::new();
    for (name, doc) in &docs {
        if let Err(e) = v.validate(doc) {
            panic!("{name}: {e}");
        }
        if let Some(verdict) = doc["verdict"].as_str() {
            verdicts.insert(verdict.to_owned());
        }
    }
    for verdict in provenance_core::Verdict::ALL {
        assert!(
            verdicts.contains(verdict.as_str()),
            "no validated snapshot for `{verdict}`"
        );
    }
}

#[test]
fn live_report_validates() {
    let e = support::entry("hex-0.4.0");
    let r = provenance_core::verify(
        &provenance_core::Request::new(provenance_core::CrateSource::File(e.crate_file))
            .with_repo(provenance_core::RepoSource::Path(e.repo)),
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    validator().validate(&doc).unwrap();
}

#[test]
fn schema_rejects_malformed_reports() {
    let v = validator();
    let (_, good) = snapshot_json_documents()
        .into_iter()
        .find(|(n, _)| n.contains("mismatch"))
        .unwrap();
    let mut bad = good.clone();
    bad["verdict"] = "fine".into();
    assert!(v.validate(&bad).is_err());
    let mut bad = good.clone();
    bad["schema_version"] = 2.into();
    assert!(v.validate(&bad).is_err());
    let mut bad = good;
    bad["differences"][0]["kind"] = "weird".into();
    assert!(v.validate(&bad).is_err());
}
