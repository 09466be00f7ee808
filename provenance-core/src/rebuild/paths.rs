//! Repository paths as cargo computes them: `/`-separated, relative to the repository root.

/// Split a repository path into components (`""` → none).
pub(super) fn comps(p: &str) -> Vec<String> {
    p.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else if b.is_empty() {
        a.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

pub(super) fn dirname(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

pub(super) fn basename(p: &str) -> &str {
    p.rfind('/').map_or(p, |i| &p[i + 1..])
}

/// Lexically normalize `base/value` (cargo's `normalize_path`). `None` if it climbs above the
/// repository root.
pub(super) fn normalize(base: &str, value: &str) -> Option<String> {
    let mut out: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
    for c in value.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out.join("/"))
}

/// `resolve_relative_path`: express `ws_root/value` relative to `pkg`.
pub(super) fn relative_to(ws_root: &str, pkg: &str, value: &str) -> Option<String> {
    let target = normalize(ws_root, value)?;
    let t = comps(&target);
    let p = comps(pkg);
    let common = t.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), p.len() - common).collect();
    parts.extend(t[common..].iter().cloned());
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(
            normalize("a/b", "../README.md").as_deref(),
            Some("a/README.md")
        );
        assert_eq!(normalize("a", "../../x"), None);
        assert_eq!(
            relative_to("", "phf", "README.md").as_deref(),
            Some("../README.md")
        );
        assert_eq!(
            relative_to("ws", "ws/crates/a", "LICENSE").as_deref(),
            Some("../../LICENSE")
        );
        assert_eq!(basename("a/b/c"), "c");
        assert_eq!(dirname("a/b/c"), "a/b");
    }
}
