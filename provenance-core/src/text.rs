//! Text made safe for display: attacker-controlled names and bytes reach messages, diffs and
//! reports only escaped. A leaf module: it uses nothing of the crate.

/// Escape a byte string for display: printable ASCII and non-control UTF-8 kept, everything else
/// as `\xNN` / `\u{..}` escapes, so terminal control sequences never reach output.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || is_bidi_or_invisible(c) {
                out.extend(c.escape_unicode());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            use std::fmt::Write;
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Bidirectional controls and zero-width characters (CVE-2021-42574 "trojan source").
pub fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether UTF-8 `data` can contain a character [`is_bidi_or_invisible`] accepts: they are all
/// encoded starting with the byte 0xE2 (U+2000–U+2FFF) or 0xEF (U+FEFF). A fast byte search
/// that lets callers skip decoding files without either byte.
pub fn may_hold_bidi_or_invisible(data: &[u8]) -> bool {
    data.contains(&0xE2) || data.contains(&0xEF)
}
