//! Tamper tests: a real, matching crate (ryu 1.0.23) changed in one way at a time must never be
//! a `match`, and the difference must name the right path and kind.

mod support;

use provenance_core::{CrateSource, DifferenceKind, RepoSource, Report, Request, Verdict, verify};
use support::TarEntry;

const ID: &str = "ryu-1.0.23";

fn tampered(f: impl FnOnce(&mut Vec<(String, TarEntry)>)) -> Report {
    let entry = support::entry(ID);
    let (prefix, mut entries) = support::unpack(&std::fs::read(&entry.crate_file).unwrap());
    f(&mut entries);
    let bytes = support::pack(&prefix, &entries);
    verify(&Request::new(CrateSource::Bytes(bytes)).with_repo(RepoSource::Path(entry.repo)))
        .unwrap()
}

fn file_mut<'a>(entries: &'a mut [(String, TarEntry)], path: &str) -> &'a mut Vec<u8> {
    match entries.iter_mut().find(|(p, _)| p == path) {
        Some((_, TarEntry::File(d))) => d,
        _ => panic!("no file {path}"),
    }
}

fn assert_single(r: &Report, path: &str, kind: DifferenceKind) {
    assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
    let d: Vec<_> = r
        .differences
        .iter()
        .map(|d| (d.path.as_str(), d.kind))
        .collect();
    assert_eq!(d, vec![(path, kind)], "{}", r.to_json());
}

#[test]
fn control_repacked_crate_still_matches() {
    let r = tampered(|_| {});
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
}

#[test]
fn one_byte_changed_in_a_source_file() {
    let r = tampered(|e| {
        let d = file_mut(e, "src/lib.rs");
        let i = d.len() / 2;
        d[i] = if d[i] == b'x' { b'y' } else { b'x' };
    });
    assert_single(&r, "src/lib.rs", DifferenceKind::ContentDiffers);
    let diff = r.differences[0].diff.as_deref().unwrap();
    assert!(
        diff.starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@"),
        "{diff}"
    );
    let (p, q) = (
        r.differences[0].published.as_ref().unwrap(),
        r.differences[0].repo.as_ref().unwrap(),
    );
    assert_eq!(p.size, q.size);
    assert_ne!(p.sha256, q.sha256);
}

#[test]
fn file_added() {
    let r = tampered(|e| {
        e.push((
            "src/evil.rs".into(),
            TarEntry::File(b"pub fn evil() {}\n".to_vec()),
        ));
    });
    assert_single(&r, "src/evil.rs", DifferenceKind::OnlyInPublished);
}

#[test]
fn build_script_added() {
    let r = tampered(|e| {
        e.push((
            "build.rs".into(),
            TarEntry::File(b"fn main() {}\n".to_vec()),
        ));
    });
    assert_single(&r, "build.rs", DifferenceKind::OnlyInPublished);
}

#[test]
fn file_dropped() {
    let r = tampered(|e| e.retain(|(p, _)| p != "src/d2s.rs"));
    assert_single(&r, "src/d2s.rs", DifferenceKind::OnlyInRepo);
}

#[test]
fn cargo_toml_orig_edited() {
    let r = tampered(|e| {
        file_mut(e, "Cargo.toml.orig").extend_from_slice(b"\n[dependencies]\nevil = \"1\"\n");
    });
    assert_single(&r, "Cargo.toml.orig", DifferenceKind::ContentDiffers);
    assert!(
        r.differences[0]
            .diff
            .as_deref()
            .unwrap()
            .contains("+evil = \"1\"")
    );
}

#[test]
fn file_replaced_by_symlink_entry() {
    let r = tampered(|e| {
        let i = e.iter().position(|(p, _)| p == "README.md").unwrap();
        e[i].1 = TarEntry::Symlink("/etc/passwd".into());
    });
    assert_single(&r, "README.md", DifferenceKind::ContentDiffers);
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == "unsupported_entry_type" && f.path.as_deref() == Some("README.md"))
    );
}

#[test]
fn duplicate_entry_with_other_content_is_never_a_match() {
    let r = tampered(|e| e.push(("src/lib.rs".into(), TarEntry::File(b"// evil\n".to_vec()))));
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == "duplicate_path" && f.path.as_deref() == Some("src/lib.rs"))
    );
}

#[test]
fn generated_normalized_manifest_is_not_byte_compared() {
    // Cargo generates `Cargo.toml`; its bytes are not compared (semantic checks are findings).
    let r = tampered(|e| file_mut(e, "Cargo.toml").extend_from_slice(b"\n# trailing comment\n"));
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
}

#[test]
fn second_gzip_member_is_never_a_match() {
    let entry = support::entry(ID);
    let mut bytes = std::fs::read(&entry.crate_file).unwrap();
    let extra = support::pack(
        "ryu-1.0.23",
        &[("src/hidden.rs".into(), TarEntry::File(b"x".to_vec()))],
    );
    bytes.extend_from_slice(&extra);
    let r =
        verify(&Request::new(CrateSource::Bytes(bytes)).with_repo(RepoSource::Path(entry.repo)))
            .unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(r.findings.iter().any(|f| f.kind == "trailing_data"));
}

/// The laundering case (SECURITY.md M7): `.orig` equals the repository, but the normalized
/// `Cargo.toml` cargo builds from gains a dependency.
#[test]
fn normalized_manifest_with_added_dependency() {
    let r = tampered(|e| {
        file_mut(e, "Cargo.toml").extend_from_slice(b"\n[dependencies.evil]\nversion = \"1\"\n");
    });
    assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
    assert!(r.differences.is_empty());
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == "normalized_manifest_diverges")
        .expect("finding");
    assert_eq!(f.severity, provenance_core::Severity::High);
    assert!(f.message.contains("dependencies.evil"), "{}", f.message);
}

#[test]
fn normalized_manifest_turned_into_a_proc_macro_with_a_build_script() {
    let r = tampered(|e| {
        let m = file_mut(e, "Cargo.toml");
        let text = String::from_utf8(m.clone())
            .unwrap()
            .replacen("[lib]\n", "[lib]\nproc-macro = true\n", 1)
            .replacen("build = false\n", "build = \"src/d2s.rs\"\n", 1);
        *m = text.into_bytes();
    });
    assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == "normalized_manifest_diverges")
        .unwrap();
    assert!(
        f.message.contains("lib.proc-macro") && f.message.contains("package.build"),
        "{}",
        f.message
    );
}

#[test]
fn lockfile_locking_an_undeclared_dependency() {
    let r = tampered(|e| {
        let lock = e
            .iter_mut()
            .find(|(p, _)| p == "Cargo.lock")
            .expect("ryu 1.0.23 publishes a Cargo.lock");
        let TarEntry::File(d) = &mut lock.1 else {
            unreachable!()
        };
        let text = String::from_utf8(d.clone()).unwrap();
        let i = text.find("name = \"ryu\"").unwrap();
        let mut patched = text[..i].to_owned();
        let rest = &text[i..];
        let end = rest.find("\n\n").unwrap_or(rest.len());
        let block = &rest[..end];
        let block = if block.contains("dependencies = [") {
            block.replacen("dependencies = [\n", "dependencies = [\n \"evil\",\n", 1)
        } else {
            format!("{block}\ndependencies = [\n \"evil\",\n]")
        };
        patched.push_str(&block);
        patched.push_str(&rest[end..]);
        *d = patched.into_bytes();
    });
    assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == "lockfile_inconsistent" && f.message.contains("`evil`"))
    );
}
