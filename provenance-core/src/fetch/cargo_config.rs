//! cargo's source replacement (`--cargo-config FILE`): the registry an air-gapped cargo set-up
//! uses for crates.io, read from a `.cargo/config.toml` (cargo `doc/src/reference/
//! source-replacement.md`).
//!
//! ```toml
//! [source.crates-io]
//! replace-with = "mirror"
//!
//! [source.mirror]
//! registry = "sparse+https://crates-mirror.internal/index/"   # or
//! local-registry = "vendor/registry"                           # or
//! directory = "vendor"
//! ```
//!
//! `replace-with` chains are followed (at most 16 steps, a cycle is an error). A `registry`
//! must be a sparse index (`sparse+…`; a git index is refused: it would need a git clone of the
//! whole index). A `local-registry` is read in place (`index/…`, `NAME-VERSION.crate`). A
//! `directory` source is refused with a clear error: it holds unpacked sources, not the
//! published `.crate` archives this tool verifies. Relative paths are resolved as cargo does:
//! against the parent of the `.cargo` directory holding the file (else the file's directory).
//! Deviation from cargo: only the given file is read, not the hierarchy of config files, and
//! `$CARGO_HOME/config.toml` only when it is the file given.

use std::path::{Path, PathBuf};

use super::error::Error;

/// The registry index URL for crates.io that `file` configures (`Some("sparse+https://…")` or
/// `Some("local-registry+file:///…")`), or `None` when it does not replace crates.io.
pub fn crates_io_index(file: &Path) -> Result<Option<String>, Error> {
    let bad = |message: String| Error::InvalidInput {
        message: format!("cargo config `{}`: {message}", file.display()),
    };
    let bytes = super::cache::read_limited(file, 1 << 20)
        .map_err(|e| bad(format!("cannot read: {e}")))?
        .ok_or_else(|| bad("not found".into()))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let Some(sources) = doc.get("source").and_then(toml::Value::as_table) else {
        return Ok(None);
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    let base: PathBuf = if dir.file_name().is_some_and(|n| n == ".cargo") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    };
    let mut name = "crates-io".to_owned();
    let mut seen = vec![name.clone()];
    for _ in 0..16 {
        let Some(source) = sources.get(&name).and_then(toml::Value::as_table) else {
            if name == "crates-io" {
                return Ok(None);
            }
            return Err(bad(format!("`source.{name}` is not defined")));
        };
        let text = |key: &str| source.get(key).and_then(toml::Value::as_str);
        if let Some(next) = text("replace-with") {
            if seen.iter().any(|s| s == next) {
                return Err(bad(format!("`replace-with` cycle through `{next}`")));
            }
            next.clone_into(&mut name);
            seen.push(name.clone());
            continue;
        }
        if name == "crates-io" {
            return Ok(None);
        }
        if let Some(url) = text("registry") {
            return if url.starts_with("sparse+") {
                Ok(Some(url.to_owned()))
            } else {
                Err(bad(format!(
                    "`source.{name}.registry` = `{url}` is a git index; only sparse indexes (`sparse+https://…`) are supported"
                )))
            };
        }
        if let Some(path) = text("local-registry") {
            let p = base.join(path);
            let p = std::fs::canonicalize(&p)
                .map_err(|e| bad(format!("local registry `{}`: {e}", p.display())))?;
            let url = url::Url::from_directory_path(&p)
                .map_err(|()| bad(format!("`{}` is not an absolute path", p.display())))?;
            return Ok(Some(format!("local-registry+{url}")));
        }
        if text("directory").is_some() {
            return Err(bad(format!(
                "`source.{name}` is a `directory` source: it holds unpacked sources, not the published `.crate` archives to verify (use a `local-registry` or a sparse registry mirror)"
            )));
        }
        return Err(bad(format!(
            "`source.{name}` has no `registry`, `local-registry` or `directory`"
        )));
    }
    Err(bad("`replace-with` chain longer than 16".into()))
}

#[cfg(test)]
mod tests {
    use super::crates_io_index;

    fn with(text: &str) -> Result<Option<String>, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        std::fs::create_dir_all(dir.path().join("vendor/reg/index")).unwrap();
        let f = dir.path().join(".cargo/config.toml");
        std::fs::write(&f, text).unwrap();
        crates_io_index(&f)
            .map(|o| {
                o.map(|u| {
                    u.replace(
                        &dir.path().canonicalize().unwrap().display().to_string(),
                        "ROOT",
                    )
                })
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn source_replacement() {
        assert_eq!(with("[net]\nretry = 2\n").unwrap(), None);
        assert_eq!(
            with("[source.crates-io]\nreplace-with = \"m\"\n[source.m]\nregistry = \"sparse+https://m.example/index/\"\n").unwrap(),
            Some("sparse+https://m.example/index/".into())
        );
        assert_eq!(
            with("[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"b\"\n[source.b]\nlocal-registry = \"vendor/reg\"\n").unwrap(),
            Some("local-registry+file://ROOT/vendor/reg/".into())
        );
        for (bad, needle) in [
            (
                "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = \"vendor\"\n",
                "unpacked sources",
            ),
            (
                "[source.crates-io]\nreplace-with = \"g\"\n[source.g]\nregistry = \"https://git.example/index\"\n",
                "git index",
            ),
            (
                "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"crates-io\"\n",
                "cycle",
            ),
            (
                "[source.crates-io]\nreplace-with = \"nope\"\n",
                "not defined",
            ),
            ("[source.crates-io\n", "cargo config"),
        ] {
            let e = with(bad).expect_err(bad);
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}
