//! Planning: group crate versions by repository, so that one worker fetches a repository once
//! and verifies every version of it from its cache.
//!
//! [`locate`] downloads a version's `.crate` (checked against the index and cached, exactly as
//! verification downloads it) and reads its `package.repository`; [`repository_key`] is core's
//! URL normalization (scheme, lowercase host, port, path without `.git`), so two spellings of
//! one repository have one key. [`partitions`] packs whole repositories into partitions.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use super::inputs::Target;
use crate::request::Options;

/// The partition key of versions without a `package.repository`.
pub const NO_REPOSITORY: &str = "none:";
/// The prefix of the partition key of a repository URL that normalization refuses.
pub const REFUSED: &str = "refused:";
/// The partition key of versions whose repository could not be read (download or archive
/// failed): verification records the error.
pub const UNLOCATED: &str = "unlocated:";

/// The `package.repository` of `name@version` (downloaded and checked like verification does,
/// and cached), or `None` when the crate declares none.
pub fn crate_repository(
    name: &str,
    version: &str,
    options: &Options,
    stop: &AtomicBool,
) -> Result<Option<String>, crate::request::Error> {
    let fopts = crate::fetch::Options::from_verify(options);
    let downloaded =
        crate::fetch::crate_archive(name, version, &fopts, &mut crate::progress::Discard, stop)?;
    let limits = &fopts.limits;
    let archive = crate::archive::parse(&downloaded.bytes, limits)?;
    let Some(file) = archive.files.get("Cargo.toml") else {
        return Err(crate::metadata::Error::MissingManifest.into());
    };
    let m = crate::metadata::parse_manifest(&file.data, "Cargo.toml", limits)?;
    Ok(match m.repository {
        crate::metadata::Field::Value(r) => Some(r),
        _ => None,
    })
}

/// The cache identity of a repository URL after core's normalization: two spellings of one
/// repository give the same key.
pub fn repository_key(
    url: &str,
    allow_insecure_transport: bool,
) -> Result<String, crate::request::Error> {
    crate::fetch::url::normalize(url, allow_insecure_transport)
        .map(|u| u.key)
        .map_err(Into::into)
}

/// The partition key of `target`: its normalized repository, [`NO_REPOSITORY`],
/// [`REFUSED`]`URL`, or [`UNLOCATED`] when the `.crate` could not be read (the verification
/// then records why, as it would without planning).
pub fn locate(target: &Target, options: &Options, stop: &AtomicBool) -> String {
    match crate_repository(&target.name, &target.version, options, stop) {
        Ok(None) => NO_REPOSITORY.to_owned(),
        Ok(Some(url)) => repository_key(&url, options.allow_insecure_transport)
            .unwrap_or_else(|_| format!("{REFUSED}{url}")),
        Err(_) => UNLOCATED.to_owned(),
    }
}

/// Whole repositories packed into partitions of up to `size` versions, in key order; a
/// repository with more versions is cut into pieces of `size`. `located` is `(target, key)`;
/// within a repository the versions keep their order.
pub fn partitions(located: &[(Target, String)], size: usize) -> Vec<Vec<Target>> {
    let size = size.max(1);
    let mut by_key: BTreeMap<&str, Vec<Target>> = BTreeMap::new();
    for (t, k) in located {
        by_key.entry(k.as_str()).or_default().push(t.clone());
    }
    let mut out: Vec<Vec<Target>> = Vec::new();
    let mut cur: Vec<Target> = Vec::new();
    for versions in by_key.into_values() {
        if versions.len() > size {
            out.extend(versions.chunks(size).map(<[Target]>::to_vec));
            continue;
        }
        if !cur.is_empty() && cur.len() + versions.len() > size {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(versions);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The number of distinct repositories (keys) among `located`.
pub fn repositories(located: &[(Target, String)]) -> usize {
    located
        .iter()
        .map(|(_, k)| k.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: &str, v: &str, k: &str) -> (Target, String) {
        (
            Target {
                name: n.into(),
                version: v.into(),
            },
            k.into(),
        )
    }

    #[test]
    fn whole_repositories_are_packed() {
        let located = vec![
            t("a", "1", "r1"),
            t("b", "1", "r2"),
            t("a", "2", "r1"),
            t("c", "1", "r3"),
            t("c", "2", "r3"),
            t("c", "3", "r3"),
        ];
        let keys = |p: &[Vec<Target>]| -> Vec<Vec<String>> {
            p.iter()
                .map(|x| x.iter().map(Target::key).collect())
                .collect()
        };
        assert_eq!(
            keys(&partitions(&located, 3)),
            vec![vec!["a@1", "a@2", "b@1"], vec!["c@1", "c@2", "c@3"]]
        );
        // A repository bigger than a partition is cut at once; the partition being packed is
        // closed later.
        assert_eq!(
            keys(&partitions(&located, 2)),
            vec![
                vec!["a@1", "a@2"],
                vec!["c@1", "c@2"],
                vec!["c@3"],
                vec!["b@1"]
            ]
        );
        assert_eq!(repositories(&located), 3);
    }
}
