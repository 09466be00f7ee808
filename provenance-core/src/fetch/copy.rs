//! Copying a commit out of a local bare repository (a local mirror), never through a `git`
//! process: the commit, its tree and the blobs under it, bounded like a fetch.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::ObjectId;
use gix::objs::Write as _;

use super::error::Error;
use super::options::Options;
use crate::error::LimitError;

/// Copy `commit`, its tree and every blob under it from the local repository at `src` into
/// `dst` (nested submodules are not followed). Bounded by `max_pack_objects` objects and
/// `max_fetch_bytes` bytes. Returns the number of objects read. The commit is written last, so
/// a copy that stopped early (limit, interrupt) never leaves the commit without its files.
pub(super) fn commit(
    src: &Path,
    dst: &gix::Repository,
    commit: ObjectId,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<u64, Error> {
    let git_err = |message: String| Error::Git {
        url: src.display().to_string(),
        message,
    };
    let opts = gix::open::Options::isolated()
        .config_overrides([format!(
            "gitoxide.objects.allocLimit={}",
            options.limits.git_alloc_limit
        )])
        .strict_config(false);
    let src_repo = gix::open_opts(src, opts)
        .map_err(|e| git_err(format!("cannot open the local mirror: {e}")))?;
    let mut queue = vec![commit];
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut commit_object = None;
    while let Some(id) = queue.pop() {
        if !seen.insert(id) {
            continue;
        }
        if should_interrupt.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let obj = src_repo
            .find_object(id)
            .map_err(|e| git_err(format!("object `{id}`: {e}")))?;
        objects += 1;
        bytes += obj.data.len() as u64;
        if objects > options.max_pack_objects {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_pack_objects",
                max: options.max_pack_objects,
                value: objects,
            }));
        }
        if bytes > options.max_fetch_bytes {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_fetch_bytes",
                max: options.max_fetch_bytes,
                value: bytes,
            }));
        }
        match obj.kind {
            gix::object::Kind::Commit if id == commit => {
                let c = obj
                    .try_to_commit_ref()
                    .map_err(|e| git_err(format!("commit `{id}`: {e}")))?;
                queue.push(c.tree());
            }
            gix::object::Kind::Tree => {
                let t = gix::objs::TreeRef::from_bytes(&obj.data, src_repo.object_hash())
                    .map_err(|e| git_err(format!("tree `{id}`: {e}")))?;
                // Trees are always walked (one left by an interrupted copy may lack children);
                // blobs already present are not read again.
                for e in &t.entries {
                    if e.mode.is_tree() || (!e.mode.is_commit() && !dst.has_object(e.oid)) {
                        queue.push(e.oid.to_owned());
                    }
                }
            }
            _ => {}
        }
        if id == commit {
            // Written last: a present commit means a complete copy (`has_commit` is the check).
            commit_object = Some((obj.kind, obj.data.clone()));
            continue;
        }
        if !dst.has_object(id) {
            dst.objects
                .write_buf(obj.kind, &obj.data)
                .map_err(|e| git_err(format!("cannot write object `{id}`: {e}")))?;
        }
    }
    if let Some((kind, data)) = commit_object {
        dst.objects
            .write_buf(kind, &data)
            .map_err(|e| git_err(format!("cannot write object `{commit}`: {e}")))?;
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::sync::atomic::AtomicBool;

    use super::commit;
    use crate::fetch::options::Options;

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            // No automatic `git gc` packing loose objects behind a concurrent copy.
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "gc.auto")
            .env("GIT_CONFIG_VALUE_0", "0")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The copy holds the commit, its tree and blobs (git's own `fsck`-free check: `cat-file`
    /// in the destination), and stops at `max_pack_objects` / `max_fetch_bytes`.
    #[test]
    fn copies_one_commit_within_bounds() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(src.join("d")).unwrap();
        git(&src, &["init", "-q", "-b", "main"]);
        std::fs::write(src.join("a.txt"), "a\n").unwrap();
        std::fs::write(src.join("d/b.txt"), "b".repeat(1000)).unwrap();
        git(&src, &["add", "-A"]);
        git(&src, &["commit", "-q", "-m", "c"]);
        let id = git(&src, &["rev-parse", "HEAD"]);
        let oid = gix::ObjectId::from_hex(id.as_bytes()).unwrap();
        let fresh = |name: &str| {
            git(tmp.path(), &["init", "-q", "--bare", name]);
            gix::open(tmp.path().join(name)).unwrap()
        };
        let no = AtomicBool::new(false);
        let mut o = Options {
            max_pack_objects: 4,
            ..Options::default()
        };
        let dst = fresh("objects.git");
        let e = commit(&src, &dst, oid, &o, &no).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::LimitExceeded, "{e}");
        assert!(!dst.has_object(oid), "no commit without its files");
        o.max_pack_objects = 100;
        o.max_fetch_bytes = 500;
        let e = commit(&src, &fresh("bytes.git"), oid, &o, &no).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::LimitExceeded, "{e}");
        o.max_fetch_bytes = 1 << 20;
        // Resuming the stopped copy: commit, root tree, `a.txt`, `d`, `d/b.txt` read.
        let dst_path = tmp.path().join("objects.git");
        assert!(commit(&src, &dst, oid, &o, &no).unwrap() >= 4);
        assert!(dst.has_object(oid));
        let tree = git(&dst_path, &["ls-tree", "-r", "--name-only", &id]);
        assert_eq!(tree, "a.txt\nd/b.txt");
        assert_eq!(
            git(&dst_path, &["cat-file", "-p", &format!("{id}:d/b.txt")]),
            "b".repeat(1000)
        );
    }
}
