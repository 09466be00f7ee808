//! Every entry of tests/data/realworld: the published `.crate` (downloaded, sha256-checked)
//! against its upstream repository, asserting the verdict real `cargo package` gives
//! (`expected_verdict`) and, where differences exist, their paths and kinds.

mod support;

use provenance_core::{CrateSource, DifferenceKind, RepoSource, Request, Verdict, verify};

/// Map the reference's kinds onto ours; generated files are never compared.
fn reference_differences(e: &support::Expected) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = e
        .reference
        .differences
        .iter()
        .filter(|d| {
            !["Cargo.lock", "Cargo.toml", ".cargo_vcs_info.json"].contains(&d.path.as_str())
        })
        .map(|d| {
            let kind = match d.kind.as_str() {
                "only_in_generated" => "only_in_repo",
                k => k,
            };
            (d.path.clone(), kind.to_owned())
        })
        .collect();
    v.sort();
    v
}

fn run(id: &str) {
    let entry = support::entry(id);
    let e = &entry.expected;
    let report = verify(
        &Request::new(CrateSource::File(entry.crate_file.clone()))
            .with_repo(RepoSource::Path(entry.repo.clone())),
    )
    .unwrap_or_else(|err| panic!("{id}: {err}"));
    assert_eq!(
        report.verdict.as_str(),
        e.expected_verdict,
        "{id}: {}",
        report.to_json()
    );
    assert_eq!(report.krate.name, e.name);
    assert_eq!(report.krate.version, e.version);
    assert_eq!(report.krate.sha256, e.crate_sha256);
    assert_eq!(
        report.files.published as usize,
        e.reference.files_published.len(),
        "{id}: published file count"
    );
    let ours = |diffs: &[provenance_core::Difference]| {
        let mut v: Vec<(String, String)> = diffs
            .iter()
            .map(|d| (d.path.clone(), d.kind.as_str().to_owned()))
            .collect();
        v.sort();
        v
    };
    match report.verdict {
        Verdict::Match => {
            assert!(report.differences.is_empty());
            assert_eq!(report.files.compared, report.files.equal);
            // Differences the reference counts must be explained as older cargo rules.
            for (path, _) in reference_differences(e) {
                assert!(
                    report.findings.iter().any(|f| f.kind == "older_cargo_rule"
                        && f.path.as_deref() == Some(path.as_str())),
                    "{id}: reference difference `{path}` is neither reported nor explained"
                );
            }
        }
        Verdict::Mismatch => {
            assert_eq!(ours(&report.differences), reference_differences(e), "{id}");
        }
        Verdict::NoVcsInfo | Verdict::RevisionNotFound => {
            let a = report
                .assisted
                .as_ref()
                .unwrap_or_else(|| panic!("{id}: no assisted attempt"));
            if let Some(closest) = &e.reference.closest_upstream_commit {
                // The tag does not reproduce the crate; the history walk finds the commit whose
                // files equal the published ones, and the only difference is the version bump.
                assert_eq!(&a.commit, closest, "{id}: assisted closest commit");
                assert_eq!(a.how, "closest_commit");
                let d: Vec<_> = a
                    .differences
                    .iter()
                    .map(|d| (d.path.as_str(), d.kind, d.category))
                    .collect();
                assert_eq!(
                    d,
                    vec![(
                        "Cargo.toml.orig",
                        DifferenceKind::ContentDiffers,
                        Some(provenance_core::report::Category::VersionBumpOnly)
                    )],
                    "{id}"
                );
            } else {
                // The reference ran at the version tag: our assisted attempt must find the same
                // tag and the same differences.
                assert_eq!(a.commit, e.reference.rev, "{id}: assisted commit");
                assert_eq!(a.how, "tag");
                assert_eq!(
                    ours(&a.differences),
                    reference_differences(e),
                    "{id}: assisted differences"
                );
                let expect = if reference_differences(e).is_empty() {
                    Verdict::Match
                } else {
                    Verdict::Mismatch
                };
                assert_eq!(a.verdict, expect, "{id}");
            }
        }
        other => panic!("{id}: unexpected verdict {other}"),
    }
    for d in &report.differences {
        assert_ne!(
            d.kind,
            DifferenceKind::InSubmodule,
            "{id}: no submodules in this set"
        );
    }
}

macro_rules! realworld {
    ($($name:ident => $id:literal,)*) => {
        $( #[test] fn $name() { run($id); } )*

        /// The test list covers MANIFEST.tsv exactly.
        #[test]
        fn every_manifest_entry_has_a_test() {
            let mut ours = vec![$($id.to_owned()),*];
            ours.sort();
            let mut all = support::all_ids();
            all.sort();
            assert_eq!(ours, all);
        }
    };
}

realworld! {
    fnv_1_0_6 => "fnv-1.0.6",
    fnv_1_0_7 => "fnv-1.0.7",
    hex_0_4_0 => "hex-0.4.0",
    hexyl_0_17_0 => "hexyl-0.17.0",
    phf_0_14_0 => "phf-0.14.0",
    phf_macros_0_10_0 => "phf_macros-0.10.0",
    phf_macros_0_11_3 => "phf_macros-0.11.3",
    pin_project_1_1_13 => "pin-project-1.1.13",
    pin_project_internal_1_1_13 => "pin-project-internal-1.1.13",
    ref_cast_impl_1_0_26 => "ref-cast-impl-1.0.26",
    ryu_1_0_23 => "ryu-1.0.23",
    scopeguard_1_1_0 => "scopeguard-1.1.0",
    static_assertions_1_1_0 => "static_assertions-1.1.0",
    walkdir_2_5_0 => "walkdir-2.5.0",
}

/// phf_macros 0.10.0: the only counted reference difference (README.md copied from outside the
/// package since cargo 1.62) is an older-cargo-rule finding, and the package path was discovered.
#[test]
fn phf_macros_0_10_0_older_rule_and_discovered_path() {
    let entry = support::entry("phf_macros-0.10.0");
    let r = verify(
        &Request::new(CrateSource::File(entry.crate_file)).with_repo(RepoSource::Path(entry.repo)),
    )
    .unwrap();
    assert_eq!(r.source.how, provenance_core::SourceHow::DiscoveredPath);
    assert_eq!(r.source.path_in_vcs.as_deref(), Some("phf_macros"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == "older_cargo_rule" && f.path.as_deref() == Some("README.md"))
    );
}
