//! The committed header matches the crate: version macros equal Cargo.toml's version, the
//! required API is declared, and (when the pinned cbindgen is available) regenerating it gives
//! the same bytes.

use std::path::PathBuf;
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header() -> String {
    std::fs::read_to_string(manifest_dir().join("include/crate_provenance.h")).unwrap()
}

fn define(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not defined in the header"))
        .trim()
        .to_owned()
}

#[test]
fn version_macros_match_cargo_toml() {
    let h = header();
    assert_eq!(
        define(&h, "PROV_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        define(&h, "PROV_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        define(&h, "PROV_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    assert_eq!(
        define(&h, "PROV_VERSION_STRING"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
    // SAFETY: prov_version returns a static NUL-terminated string.
    let lib = unsafe { std::ffi::CStr::from_ptr(crate_provenance::prov_version()) };
    assert_eq!(lib.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// The exact declarations issue 6 (and `prov_inspect_file`) require (whitespace-normalised).
#[test]
fn header_declares_the_required_api() {
    let normalised: String = header().split_whitespace().collect::<Vec<_>>().join(" ");
    for decl in [
        "typedef struct prov_options prov_options;",
        "typedef struct prov_report prov_report;",
        "typedef uint32_t prov_result;",
        "#define PROV_RESULT_OK 0",
        "#define PROV_RESULT_NULL_PARAMETER",
        "#define PROV_RESULT_PANIC",
        "prov_result prov_options_new(prov_options **out);",
        "void prov_options_free(prov_options *opts);",
        "prov_result prov_options_set_cache_dir(prov_options *opts, const char *dir);",
        "prov_result prov_options_set_offline(prov_options *opts, bool offline);",
        "prov_result prov_verify_crate_file(const prov_options *opts, const char *crate_path, const char *repo, prov_report **out);",
        "prov_result prov_verify_crate(const prov_options *opts, const char *name, const char *version, prov_report **out);",
        "const char *prov_report_verdict(const prov_report *report);",
        "size_t prov_report_difference_count(const prov_report *report);",
        "prov_result prov_report_difference_path(const prov_report *report, size_t i, const char **out, size_t *out_len);",
        "prov_result prov_report_json(const prov_report *report, const char **out, size_t *out_len);",
        "void prov_report_free(prov_report *report);",
        "prov_result prov_inspect_file(const prov_options *opts, const char *path, prov_report **out, prov_error **err);",
        "size_t prov_result_message(prov_result code, char *buf, size_t buf_len);",
        "const char *prov_version(void);",
    ] {
        assert!(normalised.contains(decl), "header lacks `{decl}`");
    }
}

/// Regenerate with `$CBINDGEN` (tests/run.sh sets it to the pinned build) or the copy that
/// tests/run.sh installs in `provenance-c/.tools`, and compare. tests/run.sh also does this
/// with `git diff --exit-code`, so CI never skips it.
#[test]
fn header_is_up_to_date() {
    let cbindgen = std::env::var_os("CBINDGEN").map(PathBuf::from).or_else(|| {
        let p = manifest_dir().join(".tools/bin/cbindgen");
        p.is_file().then_some(p)
    });
    let Some(cbindgen) = cbindgen else {
        eprintln!("NOTE: cbindgen not installed (run provenance-c/tests/run.sh); not regenerating");
        return;
    };
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("crate_provenance.h");
    let status = Command::new(&cbindgen)
        .current_dir(manifest_dir())
        .args([
            "--config",
            "cbindgen.toml",
            "--crate",
            "provenance-c",
            "--quiet",
            "--output",
        ])
        .arg(&out)
        .status()
        .expect("running cbindgen");
    assert!(status.success());
    assert!(
        std::fs::read_to_string(&out).unwrap() == header(),
        "include/crate_provenance.h is stale: regenerate it with provenance-c/tests/run.sh \
         --fix-header (or `make -C provenance-c header`)"
    );
}
