//! Cross-checks against the repository, beside the comparison: do version tags point at the
//! recorded commit, were they made long after publishing, which files explain a `dirty` flag,
//! was the manifest reached through a symlink, and do the generated files agree with the
//! workspace's `[workspace.dependencies]` at the commit.

use super::intrinsic::{GENERATED_FILE_KINDS, generated_file_findings};
use crate::archive::CrateArchive;
use crate::limits::Limits;
use crate::metadata::VcsInfo;
use crate::rebuild;
use crate::repo::{CommitInfo, Repo};
use crate::report::{Difference, Finding, Severity};

/// How version tags are commonly named, in the order they are tried.
pub(crate) const TAG_FORMS: &[&str] = &[
    "v{version}",
    "{version}",
    "{name}-v{version}",
    "{name}-{version}",
    "{name}@{version}",
];

/// The version tags of `name@version` (`refs/tags/…`), in [`TAG_FORMS`] order.
pub(crate) fn version_tags(name: &str, version: &str) -> Vec<String> {
    TAG_FORMS
        .iter()
        .map(|form| {
            format!(
                "refs/tags/{}",
                form.replace("{version}", version).replace("{name}", name)
            )
        })
        .collect()
}

/// Independent cross-checks of the recorded commit: do version tags point at it, and which
/// files explain a `dirty` flag?
pub(crate) fn cross_checks(
    repo: &Repo,
    name: &str,
    version: &str,
    vcs: &VcsInfo,
    differences: &[Difference],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for tag in version_tags(name, version) {
        if let Some(id) = repo.peel_ref(&tag) {
            let short = tag.trim_start_matches("refs/tags/");
            out.push(if id == vcs.sha1.as_str() {
                Finding::new(
                    "tag_confirms_commit",
                    Severity::Info,
                    format!("the version tag `{short}` points at the recorded commit"),
                )
            } else {
                Finding::new(
                    "tag_commit_differs",
                    Severity::Low,
                    format!("the version tag `{short}` points at `{id}`, not at the recorded commit `{}`", vcs.sha1),
                )
            });
        }
    }
    if vcs.dirty {
        let message = if differences.is_empty() {
            "the publisher declared a dirty work tree, but no packaged file differs from the commit"
                .to_owned()
        } else {
            format!(
                "the publisher declared a dirty work tree; the files that explain it: {}",
                differences
                    .iter()
                    .map(|d| format!("`{}`", d.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(Finding::new("dirty_files", Severity::Info, message));
    }
    out
}

/// The generated files, checked again with `[workspace.dependencies]` of the workspace the
/// package at `path` belongs to in `commit`: the crate-intrinsic generated-file findings are
/// replaced when that table is known.
#[allow(clippy::too_many_arguments)]
pub(crate) fn generated_files_at_commit(
    repo: &Repo,
    commit: &CommitInfo,
    archive: &CrateArchive,
    name: &str,
    version: &str,
    path: Option<&str>,
    limits: &Limits,
    findings: &mut Vec<Finding>,
) {
    if let Some(p) = path
        && let Ok(loc) = rebuild::locate_package(
            repo,
            commit.id,
            commit.tree,
            Some(name),
            version,
            Some(p),
            None,
            limits,
        )
        && let Some(ws) = rebuild::workspace_dependencies(repo, commit.tree, &loc, limits)
            .ok()
            .flatten()
    {
        findings.retain(|f| !GENERATED_FILE_KINDS.contains(&f.kind.as_str()));
        findings.extend(generated_file_findings(archive, name, version, Some(&ws)));
    }
}

/// The package was found at `used`, not at the `recorded` `path_in_vcs`: its `Cargo.toml` is a
/// symlink into the recorded directory.
pub(crate) fn manifest_symlink(recorded: Option<&str>, used: Option<&str>) -> Option<Finding> {
    let (Some(recorded), Some(used)) = (recorded, used) else {
        return None;
    };
    (recorded != used).then(|| {
        Finding::new(
            "manifest_symlink",
            Severity::Info,
            format!("`{used}/Cargo.toml` is a symlink into `{recorded}`; cargo records the manifest's canonical directory, the package root is `{used}`"),
        )
    })
}

/// Version tags made well after the version was published (the index's `pubtime`) were not
/// what the publisher packaged.
pub(crate) fn tag_time_findings(
    repo: &Repo,
    name: &str,
    version: &str,
    pubtime: Option<&str>,
) -> Vec<Finding> {
    let Some(published) = pubtime.and_then(parse_rfc3339) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for tag in version_tags(name, version) {
        if let Some(tagged) = repo.ref_time(&tag)
            && tagged > published + 3600
        {
            out.push(Finding::new(
                "tag_after_publish",
                Severity::Low,
                format!(
                    "the version tag `{}` was made {} h after the version was published ({})",
                    tag.trim_start_matches("refs/tags/"),
                    (tagged - published) / 3600,
                    pubtime.unwrap_or_default()
                ),
            ));
        }
    }
    out
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2019-09-17T16:50:29Z`, fractional seconds
/// and offsets accepted).
#[allow(clippy::many_single_char_names)]
fn parse_rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let rest = &t[19..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(off) = rest.strip_prefix('+').or_else(|| rest.strip_prefix('-')) {
        let sign = if rest.starts_with('+') { 1 } else { -1 };
        let oh: i64 = off.get(0..2)?.parse().ok()?;
        let om: i64 = off.get(3..5)?.parse().ok()?;
        secs -= sign * (oh * 3600 + om * 60);
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            super::parse_rfc3339("2019-09-17T16:50:29Z"),
            Some(1_568_739_029)
        );
        assert_eq!(
            super::parse_rfc3339("2019-09-17T18:50:29+02:00"),
            Some(1_568_739_029)
        );
        assert_eq!(super::parse_rfc3339("nope"), None);
    }
}
