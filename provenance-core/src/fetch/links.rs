//! The repository paths symlinks in a package directory point to, read lexically from the tree
//! (no link is followed), so that the submodules they lead into are fetched with the package.

use std::collections::VecDeque;

/// The targets (repository paths, `..` resolved) of the symlinks under `pkg` in `tree`, at most
/// `max_entries` tree entries read; targets leaving the repository are left out.
pub(super) fn targets(
    repo: &gix::Repository,
    tree: &gix::Tree<'_>,
    pkg: &str,
    max_entries: u64,
) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(Some(entry)) = tree.lookup_entry_by_path(pkg) else {
        return out;
    };
    if !entry.mode().is_tree() {
        return out;
    }
    let mut queue: VecDeque<(String, gix::ObjectId)> =
        VecDeque::from([(pkg.trim_end_matches('/').to_owned(), entry.object_id())]);
    let mut read = 0u64;
    while let Some((dir, id)) = queue.pop_front() {
        let Ok(obj) = repo.find_object(id) else {
            continue;
        };
        let Ok(t) = gix::objs::TreeRef::from_bytes(&obj.data, repo.object_hash()) else {
            continue;
        };
        for e in &t.entries {
            read += 1;
            if read > max_entries {
                return out;
            }
            let name = String::from_utf8_lossy(e.filename).into_owned();
            if e.mode.is_tree() {
                queue.push_back((format!("{dir}/{name}"), e.oid.to_owned()));
            } else if e.mode.is_link()
                && let Ok(blob) = repo.find_object(e.oid)
                && blob.data.len() <= 4096
                && let Some(t) = join(&dir, &String::from_utf8_lossy(&blob.data))
            {
                out.push(t);
            }
        }
    }
    out
}

/// `dir/target` with `.` and `..` resolved; `None` when it leaves the repository.
fn join(dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn joins_lexically() {
        assert_eq!(
            super::join("a/b/src", "../../../generated/Foundation").as_deref(),
            Some("generated/Foundation")
        );
        assert_eq!(super::join("a", "../../x"), None);
        assert_eq!(super::join("a", "/etc"), None);
    }
}
