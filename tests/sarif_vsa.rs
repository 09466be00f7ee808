//! SARIF, verification summary attestations (signed and unsigned) and annotated SBOMs, all
//! produced by one `cargo provenance` scan of the fixture workspace, checked against their
//! schemas (SARIF 2.1.0 as published, ours for the attestations), against `openssl` for the
//! signatures, and against the results file they summarize.

mod world;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};
use world::fetch_support::sha256;
use world::{World, jsonl, schema_errors, text, validator};

const EPOCH: &str = "1700000000";
const EPOCH_TEXT: &str = "2023-11-14T22:13:20Z";

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed");
    assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
}

/// An Ed25519 key pair made by openssl: (private PKCS#8 PEM, public SPKI PEM).
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, public) = (format!("{name}.pem"), format!("{name}.pub.pem"));
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", &key], dir);
    openssl(&["pkey", "-in", &key, "-pubout", "-out", &public], dir);
    (dir.join(key), dir.join(public))
}

const CYCLONEDX: &str = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2024-01-01T00:00:00Z",
    "component": { "type": "application", "name": "app", "version": "0.1.0", "purl": "pkg:cargo/app@0.1.0?download_url=file://." }
  },
  "components": [
    { "type": "library", "bom-ref": "a", "name": "alpha", "version": "1.0.0", "purl": "pkg:cargo/alpha@1.0.0",
      "hashes": [ { "alg": "SHA-256", "content": "00" } ],
      "properties": [ { "name": "cdx:cargo:feature", "value": "std" } ],
      "components": [ { "type": "library", "name": "beta", "version": "1.0.0", "purl": "pkg:cargo/beta@1.0.0" } ] },
    { "type": "library", "name": "gamma", "version": "1.0.0", "purl": "pkg:cargo/gamma@1.0.0", "weight": 1.25e2 },
    { "type": "library", "name": "eps", "version": "1.0.0", "purl": "pkg:cargo/eps@1.0.0" },
    { "type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0" }
  ],
  "dependencies": [ { "ref": "a", "dependsOn": [] } ]
}
"#;

const SPDX: &str = r#"{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "ws",
  "documentNamespace": "https://example.invalid/ws-1",
  "creationInfo": { "created": "2024-01-01T00:00:00Z", "creators": [ "Tool: fixture" ] },
  "packages": [
    { "SPDXID": "SPDXRef-gamma", "name": "gamma", "versionInfo": "1.0.0", "downloadLocation": "NOASSERTION",
      "externalRefs": [ { "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:cargo/gamma@1.0.0" } ],
      "annotations": [ { "annotationDate": "2024-01-01T00:00:00Z", "annotationType": "REVIEW", "annotator": "Person: a", "comment": "looked at it" } ] },
    { "SPDXID": "SPDXRef-zeta", "name": "zeta", "versionInfo": "1.0.0", "downloadLocation": "NOASSERTION",
      "externalRefs": [ { "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:cargo/zeta@1.0.0" } ] },
    { "SPDXID": "SPDXRef-other", "name": "other", "versionInfo": "2", "downloadLocation": "NOASSERTION" }
  ],
  "relationships": [ { "spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-gamma" } ]
}
"#;

/// One `cargo provenance` run with every output, from the workspace root.
struct Run {
    w: World,
    public_key: PathBuf,
}

impl Run {
    fn new() -> Run {
        let w = World::new();
        let (key, public_key) = keypair(w.tmp.path(), "signer");
        std::fs::write(w.ws().join("bom.cdx.json"), CYCLONEDX).unwrap();
        std::fs::write(w.ws().join("bom.spdx.json"), SPDX).unwrap();
        let scan = |attest_dir: &str, key: Option<&Path>| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-provenance"));
            c.current_dir(w.ws())
                .env_remove("CI")
                .env("SOURCE_DATE_EPOCH", EPOCH)
                .args(["provenance", "--out", "r.jsonl", "--sarif", "out/r.sarif"])
                .args(["--attest-dir", attest_dir])
                .args(["--sbom", "bom.cdx.json", "--annotate", "out/bom.cdx.json"])
                .args(["--sbom", "bom.spdx.json", "--annotate", "out/bom.spdx.json"])
                .args(w.registry_args("cache"));
            if let Some(k) = key {
                c.arg("--signing-key").arg(k);
            }
            let out = c.output().unwrap();
            // gamma (mismatch) and eps (error) fail the workspace's gate.
            assert_eq!(out.status.code(), Some(1), "{}", text(&out));
            out
        };
        scan("signed", Some(&key));
        // The second run verifies nothing (every crate is in r.jsonl) and writes the same
        // results without a signature.
        let again = scan("unsigned", None);
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("0 crate versions to verify"),
            "{}",
            text(&again)
        );
        Run { w, public_key }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.w.ws().join(p)
    }

    fn json(&self, p: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.path(p)).unwrap()).unwrap()
    }

    /// The exact results line of a crate.
    fn line(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.path("r.jsonl")).unwrap();
        text.lines()
            .find(|l| l.contains(&format!("\"name\":\"{name}\"")))
            .unwrap()
            .to_owned()
    }

    fn result(&self, name: &str) -> Value {
        jsonl(&self.path("r.jsonl"))
            .into_iter()
            .find(|r| r["crate"]["name"] == name)
            .unwrap()
    }
}

/// The SARIF 2.1.0 schema as a package registry ships it (rtm.5, from npm), with the one pattern
/// that the OASIS errata 01 corrected (rtm.5's is not a valid regular expression: `]` without
/// `[`) corrected the same way. Source: tests/data/schemas/README.md.
fn sarif_schemas() -> Vec<jsonschema::Validator> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schemas");
    let rtm5 = std::fs::read_to_string(dir.join("sarif-2.1.0-rtm.5.json"))
        .unwrap()
        .replace(
            r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
            r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
        );
    let rtm5: Value = serde_json::from_str(&rtm5).unwrap();
    vec![jsonschema::validator_for(&rtm5).unwrap()]
}

#[test]
fn sarif_is_schema_valid_located_and_follows_the_gate() {
    let run = Run::new();
    let sarif = run.json("out/r.sarif");
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    broken["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"] = json!({});
    for schema in sarif_schemas() {
        let errors = schema_errors(&schema, &sarif);
        assert!(errors.is_empty(), "{errors:#?}\n{sarif:#}");
        // The validators are not vacuous.
        assert!(!schema_errors(&schema, &broken).is_empty());
    }
    // The errata's stricter region rule (a `startLine`) is not in the registry's schema; it is
    // asserted on every result below.
    let run0 = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(run0["tool"]["driver"]["name"], "crate-provenance");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        assert!(r["help"]["text"].as_str().unwrap().len() > 40, "{r:#}");
        assert!(r["properties"]["security-severity"].is_string(), "{r:#}");
    }
    let results = run0["results"].as_array().unwrap();
    let mut got: Vec<(String, String, String)> = results
        .iter()
        .map(|r| {
            let i = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
            assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at its rule");
            // SARIF errata 01: every region has a startLine.
            let loc = &r["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uri"], "Cargo.lock", "{r:#}");
            assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            let name = r["properties"]["crate"].as_str().unwrap().to_owned();
            assert_eq!(
                loc["region"]["startLine"].as_u64(),
                Some(run.w.lock_line(&name)),
                "{r:#}"
            );
            assert_eq!(
                r["partialFingerprints"]["crateVersion/v1"],
                format!("{name}@1.0.0")
            );
            (
                name,
                r["ruleId"].as_str().unwrap().to_owned(),
                r["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    // alpha and beta match with no high finding: no result. gamma and eps fail the gate. delta
    // is denied but exempt (suppressed). zeta's verdict is not denied, but it has a high finding.
    let zeta_finding = run
        .result("zeta")
        .get("findings")
        .and_then(Value::as_array)
        .and_then(|f| f.iter().find(|f| f["severity"] == "high").cloned())
        .expect("zeta has a high finding");
    let zeta_rule = format!("finding/{}", zeta_finding["kind"].as_str().unwrap());
    assert_eq!(
        got,
        [
            s("delta", "verdict/revision_not_found", "error"),
            s("eps", "verdict/error", "error"),
            s("gamma", "verdict/mismatch", "error"),
            s("zeta", &zeta_rule, "error"),
        ]
    );
    let by = |n: &str| {
        results
            .iter()
            .find(|r| r["properties"]["crate"] == n)
            .unwrap()
    };
    assert_eq!(
        by("delta")["suppressions"],
        json!([{ "kind": "external", "status": "accepted", "justification": "published from a fork; reviewed" }])
    );
    assert!(by("gamma").get("suppressions").is_none());
    assert_eq!(by("gamma")["properties"]["denied"], true);
    assert_eq!(by("zeta")["properties"]["denied"], false);
    assert_eq!(
        by("gamma")["properties"]["report-sha256"],
        sha256(run.line("gamma").as_bytes())
    );
    assert!(
        by("gamma")["message"]["text"]
            .as_str()
            .unwrap()
            .contains("`gamma@1.0.0`: `mismatch` (denied by the gate)"),
        "{:#}",
        by("gamma")
    );

    // `report --format sarif` of the results file gives the same document.
    let report = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
        .current_dir(run.w.ws())
        .args([
            "report",
            "r.jsonl",
            "--format",
            "sarif",
            "--lockfile",
            "Cargo.lock",
        ])
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(1), "{}", text(&report));
    assert_eq!(
        String::from_utf8(report.stdout).unwrap(),
        std::fs::read_to_string(run.path("out/r.sarif")).unwrap()
    );
}

fn statement_checks(run: &Run, name: &str, st: &Value) {
    let vsa = validator("schema/vsa.v1.json");
    let errors = schema_errors(&vsa, st);
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{st:#}");
    let subject = &st["subject"][0];
    assert_eq!(subject["name"], format!("{name}-1.0.0.crate"));
    assert_eq!(subject["uri"], format!("pkg:cargo/{name}@1.0.0"));
    assert_eq!(subject["digest"]["sha256"], sha256(&run.w.crates[name]));
    let p = &st["predicate"];
    assert_eq!(p["timeVerified"], EPOCH_TEXT);
    assert_eq!(p["resourceUri"], format!("pkg:cargo/{name}@1.0.0"));
    // The policy digest pins exactly the deny list and exemptions it shows.
    let annotations = &p["policy"]["annotations"];
    assert_eq!(
        annotations["deny"],
        json!(["error", "mismatch", "revision_not_found"])
    );
    assert_eq!(
        annotations["exemptions"],
        json!({ "delta@1.0.0": "published from a fork; reviewed" })
    );
    assert_eq!(
        p["policy"]["digest"]["sha256"],
        sha256(serde_json::to_string(annotations).unwrap().as_bytes())
    );
    let report_field = p
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with("/attestation/report/v1"))
        .map(|(_, v)| v)
        .expect("the report extension field");
    assert_eq!(
        report_field["digest"]["sha256"],
        sha256(run.line(name).as_bytes()),
        "the digest of the results line"
    );
    let verdict = run.result(name)["verdict"].as_str().unwrap().to_owned();
    assert_eq!(report_field["annotations"]["verdict"], verdict);
    let passed = !matches!(name, "gamma");
    assert_eq!(
        p["verificationResult"],
        if passed { "PASSED" } else { "FAILED" },
        "{name}"
    );
    let level = if passed {
        format!("CRATE_PROVENANCE_VERDICT_{}", verdict.to_ascii_uppercase())
    } else {
        "FAILED".to_owned()
    };
    assert_eq!(p["verifiedLevels"], json!([level]));
}

fn attest_verify(key: &Path, file: &Path, crate_file: Option<&Path>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crate-provenance"));
    c.args(["attest", "verify", "--key"]).arg(key).arg(file);
    if let Some(f) = crate_file {
        c.arg("--crate-file").arg(f);
    }
    c.output().unwrap()
}

/// Pretty JSON made compact: whitespace outside strings removed (serde_json's pretty and compact
/// forms differ in nothing else).
fn minify(pretty: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn attestations_signed_and_unsigned() {
    let run = Run::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    let dsse = validator("schema/dsse-envelope.v1.json");
    let mut names: Vec<String> = std::fs::read_dir(run.path("unsigned"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Every crate version with a verdict; eps failed to verify and has no digest to attest.
    assert_eq!(
        names,
        ["alpha", "beta", "delta", "gamma", "zeta"].map(|n| format!("{n}-1.0.0.vsa.json"))
    );
    let tmp = run.w.tmp.path();
    let (_, other_public) = keypair(tmp, "other");
    for name in ["alpha", "beta", "delta", "gamma", "zeta"] {
        let unsigned = run.json(&format!("unsigned/{name}-1.0.0.vsa.json"));
        statement_checks(&run, name, &unsigned);

        let env_path = run.path(&format!("signed/{name}-1.0.0.vsa.dsse.json"));
        let envelope: Value = serde_json::from_slice(&std::fs::read(&env_path).unwrap()).unwrap();
        let errors = schema_errors(&dsse, &envelope);
        assert!(errors.is_empty(), "{errors:#?}");
        let payload = b64.decode(envelope["payload"].as_str().unwrap()).unwrap();
        let signed: Value = serde_json::from_slice(&payload).unwrap();
        // The same statement (SOURCE_DATE_EPOCH fixes the time), signed.
        assert_eq!(signed, unsigned, "{name}");

        // Our verifier accepts it, and prints the result.
        let out = attest_verify(&run.public_key, &env_path, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.starts_with(&format!("verified: `{name}-1.0.0.crate`")),
            "{said}"
        );
        assert!(
            said.contains(if name == "gamma" {
                " FAILED: FAILED "
            } else {
                " PASSED: "
            }),
            "{said}"
        );

        // openssl agrees: the signature is Ed25519 over DSSE's PAE of the payload.
        let mut pae =
            format!("DSSEv1 28 application/vnd.in-toto+json {} ", payload.len()).into_bytes();
        pae.extend_from_slice(&payload);
        std::fs::write(tmp.join("pae.bin"), &pae).unwrap();
        std::fs::write(
            tmp.join("sig.bin"),
            b64.decode(envelope["signatures"][0]["sig"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        openssl(
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                run.public_key.to_str().unwrap(),
                "-rawin",
                "-in",
                "pae.bin",
                "-sigfile",
                "sig.bin",
            ],
            tmp,
        );

        // The subject is the published .crate, and only that.
        let crate_file = tmp.join(format!("{name}.crate"));
        std::fs::write(&crate_file, &run.w.crates[name]).unwrap();
        let out = attest_verify(&run.public_key, &env_path, Some(&crate_file));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        std::fs::write(&crate_file, b"another file").unwrap();
        let out = attest_verify(&run.public_key, &env_path, Some(&crate_file));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));

        // Another key: rejected.
        let out = attest_verify(&other_public, &env_path, None);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no signature"),
            "{}",
            text(&out)
        );

        // An unsigned statement: nothing to verify.
        let out = attest_verify(
            &run.public_key,
            &run.path(&format!("unsigned/{name}-1.0.0.vsa.json")),
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }

    // A tampered statement fails: gamma's FAILED turned into PASSED under the same signature.
    let env_path = run.path("signed/gamma-1.0.0.vsa.dsse.json");
    let mut envelope: Value = serde_json::from_slice(&std::fs::read(&env_path).unwrap()).unwrap();
    let payload =
        String::from_utf8(b64.decode(envelope["payload"].as_str().unwrap()).unwrap()).unwrap();
    assert!(payload.contains("\"verificationResult\":\"FAILED\""));
    let forged = payload
        .replace(
            "\"verificationResult\":\"FAILED\"",
            "\"verificationResult\":\"PASSED\"",
        )
        .replace("[\"FAILED\"]", "[\"CRATE_PROVENANCE_VERDICT_MATCH\"]");
    envelope["payload"] = json!(b64.encode(forged.as_bytes()));
    let tampered = run.w.tmp.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let out = attest_verify(&run.public_key, &tampered, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no signature"),
        "{}",
        text(&out)
    );
    // So does a changed payload type (it is signed too).
    let mut envelope: Value = serde_json::from_slice(&std::fs::read(&env_path).unwrap()).unwrap();
    envelope["payloadType"] = json!("application/json");
    std::fs::write(&tampered, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let out = attest_verify(&run.public_key, &tampered, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// Remove what annotation adds: our CycloneDX properties (and `properties` arrays that only
/// hold ours), our SPDX annotations (and `annotations` arrays that only hold ours).
fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for key in ["properties", "annotations"] {
                if let Some(Value::Array(a)) = m.get_mut(key) {
                    a.retain(|x| {
                        !x["name"]
                            .as_str()
                            .is_some_and(|n| n.starts_with("crate-provenance:"))
                            && !x["comment"]
                                .as_str()
                                .is_some_and(|c| c.starts_with("crate-provenance:"))
                    });
                    if a.is_empty() {
                        m.remove(key);
                    }
                }
            }
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

fn props(component: &Value) -> Vec<(String, String)> {
    component["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"].as_str().unwrap().starts_with("crate-provenance:"))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn annotated_sboms_round_trip() {
    let run = Run::new();
    let line = |n: &str| sha256(run.line(n).as_bytes());
    let commit = |n: &str| {
        run.result(n)["source"]["commit"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let p = |k: &str, v: &str| (format!("crate-provenance:{k}"), v.to_owned());

    // CycloneDX: parse, annotate, parse again; only the properties changed.
    let input: Value = serde_json::from_str(CYCLONEDX).unwrap();
    let out_text = std::fs::read_to_string(run.path("out/bom.cdx.json")).unwrap();
    let output: Value = serde_json::from_str(&out_text).unwrap();
    let mut stripped = output.clone();
    strip(&mut stripped);
    assert_eq!(stripped, input);
    // Member order is kept.
    let pos = |k: &str| out_text.find(&format!("\"{k}\"")).unwrap();
    assert!(pos("bomFormat") < pos("specVersion") && pos("serialNumber") < pos("metadata"));
    assert!(pos("metadata") < pos("components") && pos("components") < pos("dependencies"));
    let alpha = &output["components"][0];
    assert_eq!(
        alpha["properties"][0]["name"], "cdx:cargo:feature",
        "existing first"
    );
    assert_eq!(
        props(alpha),
        [
            p("verdict", "match"),
            p("commit", &commit("alpha")),
            p("report-sha256", &line("alpha"))
        ]
    );
    assert_eq!(
        props(&alpha["components"][0])[0],
        p("verdict", "match"),
        "nested beta"
    );
    assert_eq!(
        props(&output["components"][1]),
        [
            p("verdict", "mismatch"),
            p("commit", &commit("gamma")),
            p("report-sha256", &line("gamma"))
        ]
    );
    assert_eq!(props(&output["components"][2]), [p("verdict", "error")]);
    assert!(
        output["components"][3].get("properties").is_none(),
        "npm component untouched"
    );
    assert!(
        output["metadata"]["component"].get("properties").is_none(),
        "path package untouched"
    );

    // SPDX 2.3: one annotation per cargo package, dated by SOURCE_DATE_EPOCH.
    let input: Value = serde_json::from_str(SPDX).unwrap();
    let output = run.json("out/bom.spdx.json");
    let mut stripped = output.clone();
    strip(&mut stripped);
    assert_eq!(stripped, input);
    let gamma = &output["packages"][0]["annotations"];
    assert_eq!(
        gamma[0]["annotator"], "Person: a",
        "existing annotations kept"
    );
    assert_eq!(
        gamma[1],
        json!({
            "annotationDate": EPOCH_TEXT,
            "annotationType": "OTHER",
            "annotator": concat!("Tool: crate-provenance-", env!("CARGO_PKG_VERSION")),
            "comment": format!(
                "crate-provenance:verdict=mismatch\ncrate-provenance:commit={}\ncrate-provenance:report-sha256={}",
                commit("gamma"),
                line("gamma")
            ),
        })
    );
    let zeta = &output["packages"][1]["annotations"][0]["comment"];
    assert!(
        zeta.as_str()
            .unwrap()
            .starts_with("crate-provenance:verdict=repository_not_found\n"),
        "{zeta}"
    );
    assert!(output["packages"][2].get("annotations").is_none());
}

#[test]
fn verify_attest_for_one_crate_version() {
    let w = World::new();
    let (key, public) = keypair(w.tmp.path(), "k");
    for (name, result, signed) in [
        ("alpha", "PASSED", false),
        ("gamma", "FAILED", true),
        ("zeta", "FAILED", false),
    ] {
        let file = w.path(&format!("{name}.att.json"));
        let mut c = w.crate_provenance(&["verify", &format!("{name}@1.0.0"), "--format", "json"]);
        c.args(w.registry_args("cache")).arg("--attest").arg(&file);
        if signed {
            c.arg("--signing-key").arg(&key);
        }
        let out = c.env("SOURCE_DATE_EPOCH", EPOCH).output().unwrap();
        let report: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        let compact = minify(&String::from_utf8(out.stdout.clone()).unwrap());
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let st = if signed {
            let v = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
                .args(["attest", "verify", "--key"])
                .arg(&public)
                .arg(&file)
                .output()
                .unwrap();
            assert_eq!(v.status.code(), Some(0), "{}", text(&v));
            let payload = base64::engine::general_purpose::STANDARD
                .decode(doc["payload"].as_str().unwrap())
                .unwrap();
            serde_json::from_slice(&payload).unwrap()
        } else {
            doc
        };
        let errors = schema_errors(&validator("schema/vsa.v1.json"), &st);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(st["predicate"]["verificationResult"], result, "{name}");
        assert_eq!(
            st["subject"][0]["digest"]["sha256"],
            sha256(&w.crates[name])
        );
        assert_eq!(
            st["subject"][0]["digest"]["sha256"],
            report["crate"]["sha256"]
        );
        // verify's policy: everything but `match` fails.
        let deny = st["predicate"]["policy"]["annotations"]["deny"]
            .as_array()
            .unwrap();
        assert_eq!(deny.len(), 10, "{deny:?}");
        assert!(!deny.contains(&json!("match")));
        // The report digest is that of the compact report.
        let field = st["predicate"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.ends_with("/attestation/report/v1"))
            .unwrap()
            .1;
        assert_eq!(field["digest"]["sha256"], sha256(compact.as_bytes()));
    }
    // A key that is not PKCS#8 PEM is an error before anything is verified.
    std::fs::write(w.path("bad.pem"), "not a key").unwrap();
    let out = w
        .crate_provenance(&[
            "verify",
            "alpha@1.0.0",
            "--attest",
            "x.json",
            "--signing-key",
        ])
        .arg(w.path("bad.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an Ed25519 private key"));
}
