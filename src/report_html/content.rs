//! The content of files that exist only in the published crate, for the crate pages: a
//! reviewer's first question about an extra `test-macros/bin/macro-results.sh` is what it does.
//!
//! The `.crate` is read from the download cache (where `scan` and `watch` put it, by its
//! sha256) and parsed by `provenance_core::archive::parse` with the default limits; nothing is
//! downloaded. Text (UTF-8 without NUL) is shown escaped and capped at [`MAX_TEXT_BYTES`];
//! anything else is shown as its size, sha256 and a type guessed from its first bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use provenance_core::fetch::Cache;
use provenance_core::{DifferenceKind, Limits, Report};

use super::escape;

/// Text shown of one file, at most.
pub const MAX_TEXT_BYTES: usize = 64 << 10;

/// What a crate page shows of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// UTF-8 text: the first [`MAX_TEXT_BYTES`] (cut at a character boundary), and the size.
    Text { shown: String, size: u64 },
    /// Not text.
    Binary {
        size: u64,
        sha256: String,
        kind: &'static str,
    },
}

/// The type of a binary file from its first bytes.
fn kind(data: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x7fELF", "ELF executable or library"),
        (b"MZ", "PE (Windows) executable"),
        (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
        (b"\xce\xfa\xed\xfe", "Mach-O executable"),
        (b"\xca\xfe\xba\xbe", "Mach-O universal binary or Java class"),
        (b"\0asm", "WebAssembly module"),
        (b"!<arch>\n", "ar archive (static library)"),
        (b"\x1f\x8b", "gzip"),
        (b"PK\x03\x04", "zip"),
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF", "PDF document"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\0", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| data.starts_with(m))
        .map_or("data", |(_, k)| k)
}

/// What to show of `data`.
pub fn describe(data: &[u8], sha256: &str) -> Content {
    let size = data.len() as u64;
    let head = &data[..data.len().min(8192)];
    match std::str::from_utf8(data) {
        Ok(text) if !head.contains(&0) => {
            let mut end = text.len().min(MAX_TEXT_BYTES);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            Content::Text {
                shown: text[..end].to_owned(),
                size,
            }
        }
        _ => Content::Binary {
            size,
            sha256: sha256.to_owned(),
            kind: kind(data),
        },
    }
}

/// The content of every `only_in_published` file of `report`, from its `.crate` in `cache`
/// (empty when the crate is not cached or does not parse).
pub fn only_in_published(report: &Report, cache: Option<&Cache>) -> BTreeMap<String, Content> {
    let mut out = BTreeMap::new();
    let wanted: Vec<&str> = report
        .differences
        .iter()
        .filter(|d| d.kind == DifferenceKind::OnlyInPublished)
        .map(|d| d.path.as_str())
        .collect();
    let Some(cache) = cache.filter(|_| !wanted.is_empty()) else {
        return out;
    };
    let limits = Limits::default();
    let Ok(Some(bytes)) = cache.read_crate(&report.krate.sha256, limits.max_crate_bytes) else {
        return out;
    };
    let Ok(archive) = provenance_core::archive::parse(&bytes, &limits) else {
        return out;
    };

    for path in wanted {
        if let Some(f) = archive.file(path).filter(|f| f.retained()) {
            out.insert(path.to_owned(), describe(&f.data, &f.digest().sha256));
        }
    }
    out
}

/// The HTML of one file's content.
pub fn render(out: &mut String, c: &Content) {
    match c {
        Content::Text { shown, size } => {
            let more = *size as usize - shown.len();
            let _ = write!(
                out,
                "<details class=\"content\" open><summary>content ({size} bytes{})</summary><pre class=\"content\">{}</pre></details>",
                if more > 0 {
                    format!(", the first {} shown", shown.len())
                } else {
                    String::new()
                },
                escape(shown)
            );
        }
        Content::Binary { size, sha256, kind } => {
            let _ = write!(
                out,
                "<p class=\"content\">binary content: {size} bytes, {kind}, sha256 <code>{}</code></p>",
                escape(sha256)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_binary_and_caps() {
        assert_eq!(
            describe(b"#!/bin/sh\necho hi\n", "x"),
            Content::Text {
                shown: "#!/bin/sh\necho hi\n".into(),
                size: 18
            }
        );
        assert_eq!(
            describe(b"\x7fELF\x02\x01\x01\0", "ab"),
            Content::Binary {
                size: 8,
                sha256: "ab".into(),
                kind: "ELF executable or library"
            }
        );
        assert!(matches!(
            describe(b"a\0b", "x"),
            Content::Binary { kind: "data", .. }
        ));
        let long = "é".repeat(MAX_TEXT_BYTES);
        let Content::Text { shown, size } = describe(long.as_bytes(), "x") else {
            panic!()
        };
        assert!(shown.len() <= MAX_TEXT_BYTES && shown.len() > MAX_TEXT_BYTES - 2);
        assert_eq!(size, (MAX_TEXT_BYTES * 2) as u64);
        let mut html = String::new();
        render(
            &mut html,
            &Content::Text {
                shown: "<script>x</script>".into(),
                size: 18,
            },
        );
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
    }
}
