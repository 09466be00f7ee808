//! Assisted matching, for crates without a usable recorded commit (`no_vcs_info`,
//! `revision_not_found`): version tags first, then commits of a bounded history walk whose
//! manifest has the version, then the commits closest to the published files. Each candidate is
//! [evaluated](crate::evaluate) like the recorded commit would be.

use crate::classify::categorize;
use crate::classify::checks::version_tags;
use crate::compare;
use crate::evaluate::{Evaluation, Published, evaluate};
use crate::metadata;
use crate::progress::Stage;
use crate::rebuild;
use crate::repo::{self, CommitInfo, CommitLookup, NodeKind, Repo};
use crate::report::{Assisted, Verdict};
use crate::request::{Error, Run};

/// One assisted candidate, evaluated.
fn assisted_candidate(
    how: &str,
    reference: String,
    commit: &CommitInfo,
    ev: Evaluation,
) -> Assisted {
    Assisted {
        how: how.into(),
        reference,
        commit: commit.id.to_string(),
        verdict: ev.verdict,
        path_in_vcs: ev.path.unwrap_or_default(),
        files: ev.files,
        summary: categorize::summary(&ev.differences),
        differences: ev.differences,
    }
}

/// Candidates from a bounded walk over the history: commits whose package manifest has this
/// version (`version_commit`), and the commits whose package tree holds the most of the published
/// files' blob ids (`closest_commit`) — cheap, since only ids are compared.
fn history_candidates(
    run: &Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    refs: &[(String, gix::ObjectId)],
    pkg: &str,
) -> Result<Vec<(&'static str, String, CommitInfo)>, Error> {
    let (archive, version, options) = (krate.archive, krate.version, run.options);
    let kind = repo.gix().object_hash();
    let published: Vec<(Vec<String>, gix::ObjectId)> = archive
        .files
        .iter()
        .filter(|(p, _)| {
            !compare::GENERATED.contains(&p.as_str()) && p.as_str() != "Cargo.toml.orig"
        })
        .filter_map(|(p, f)| {
            let mut c: Vec<String> = pkg
                .split('/')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect();
            c.extend(p.split('/').map(str::to_owned));
            f.blob_id(kind).map(|id| (c, id))
        })
        .collect();
    let blob_at = |tree: gix::ObjectId, path: &[String]| -> Result<Option<gix::ObjectId>, Error> {
        let mut cur = tree;
        for (i, c) in path.iter().enumerate() {
            let entries = repo.tree(cur)?;
            let Some(e) = entries.iter().find(|e| &e.name == c) else {
                return Ok(None);
            };
            if i + 1 == path.len() {
                return Ok(matches!(e.kind, NodeKind::Blob | NodeKind::Executable).then_some(e.id));
            }
            if e.kind != NodeKind::Tree {
                return Ok(None);
            }
            cur = e.id;
        }
        Ok(None)
    };
    let mut manifest_path: Vec<String> = pkg
        .split('/')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    manifest_path.push("Cargo.toml".into());
    let tips: Vec<gix::ObjectId> = refs
        .iter()
        .filter(|(r, _)| {
            r.starts_with("refs/heads/")
                || r.starts_with("refs/tags/")
                || r.starts_with("refs/remotes/")
        })
        .map(|(_, id)| *id)
        .collect();
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let walk = repo
        .gix()
        .rev_walk(tips)
        .all()
        .map_err(|e| repo::Error::Object {
            id: "history".into(),
            message: e.to_string(),
        })?;
    let mut version_cache: std::collections::HashMap<gix::ObjectId, bool> =
        std::collections::HashMap::new();
    let mut version_commits: Vec<CommitInfo> = Vec::new();
    let mut scored: Vec<(usize, usize, CommitInfo)> = Vec::new();
    for (n, info) in walk.enumerate() {
        if n as u64 >= options.assisted_max_commits {
            break;
        }
        run.check()?;
        let Ok(info) = info else { break };
        let CommitLookup::Found(commit) = repo.lookup_commit(&info.id.to_string())? else {
            continue;
        };
        repo.reset_walk_budget();
        let Some(manifest) = blob_at(commit.tree, &manifest_path)? else {
            continue;
        };
        let has_version = *version_cache.entry(manifest).or_insert_with(|| {
            repo.blob(manifest, options.limits.max_manifest_bytes)
                .ok()
                .and_then(|b| metadata::parse_manifest(&b, "Cargo.toml", &options.limits).ok())
                .is_some_and(|m| m.version.value().is_some_and(|v| v == version))
        });
        if has_version && version_commits.len() < 5 {
            version_commits.push(commit.clone());
        }
        let mut score = 0;
        for (path, id) in &published {
            if blob_at(commit.tree, path)? == Some(*id) {
                score += 1;
            }
        }
        scored.push((score, n, commit));
    }
    // Highest overlap first; among equals, the most recent in walk order.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<(&'static str, String, CommitInfo)> = version_commits
        .into_iter()
        .map(|c| ("version_commit", c.id.to_string(), c))
        .collect();
    for (_, _, c) in scored.into_iter().take(3) {
        if !out.iter().any(|(_, _, o)| o.id == c.id) {
            out.push(("closest_commit", c.id.to_string(), c));
        }
    }
    Ok(out)
}

/// Assisted matching for `no_vcs_info` / `revision_not_found`: version tags first, then commits
/// whose manifest has the version, then the closest commits of a bounded history walk. The first
/// candidate that matches wins; otherwise the one with the fewest differences.
pub(crate) fn assisted(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    path_hint: Option<&str>,
) -> Result<Option<Assisted>, Error> {
    let (name, version) = (krate.name, krate.version);
    run.progress.stage(Stage::Assisted, None);
    let refs = repo.refs()?;
    let mut best: Option<Assisted> = None;
    let consider = |candidate: Assisted, best: &mut Option<Assisted>| -> bool {
        if candidate.verdict == Verdict::Match {
            *best = Some(candidate);
            return true;
        }
        let rank = |a: &Assisted| {
            (
                a.verdict != Verdict::Mismatch && a.verdict != Verdict::MatchButSymlinks,
                a.differences.len(),
            )
        };
        if best.as_ref().is_none_or(|b| rank(&candidate) < rank(b)) {
            *best = Some(candidate);
        }
        false
    };
    let mut pkg = path_hint.map(str::to_owned);
    for tag in version_tags(name, version) {
        let Some((_, id)) = refs.iter().find(|(r, _)| *r == tag) else {
            continue;
        };
        let CommitLookup::Found(commit) = repo.lookup_commit(&id.to_string())? else {
            continue;
        };
        let ev = evaluate(run, krate, repo, &commit, None)?;
        if pkg.is_none() && ev.verdict != Verdict::PathNotFound {
            pkg.clone_from(&ev.path);
        }
        if consider(assisted_candidate("tag", tag, &commit, ev), &mut best) {
            return Ok(best);
        }
    }
    if run.options.assisted_max_commits == 0 {
        return Ok(best);
    }
    // Where is the package? The recorded path, the path at a tag, or discovery at a branch tip.
    if pkg.is_none() {
        for (_, id) in refs.iter().filter(|(r, _)| r.starts_with("refs/heads/")) {
            if let CommitLookup::Found(c) = repo.lookup_commit(&id.to_string())?
                && let Ok(loc) = rebuild::locate_package(
                    repo,
                    c.id,
                    c.tree,
                    Some(name),
                    version,
                    None,
                    None,
                    &run.options.limits,
                )
            {
                pkg = Some(loc.path);
                break;
            }
        }
    }
    let Some(pkg) = pkg else {
        return Ok(best);
    };
    for (how, reference, commit) in history_candidates(run, krate, repo, &refs, &pkg)? {
        if best
            .as_ref()
            .is_some_and(|b| commit.id == b.commit.as_str())
        {
            continue;
        }
        let ev = evaluate(run, krate, repo, &commit, Some(&pkg))?;
        if consider(assisted_candidate(how, reference, &commit, ev), &mut best) {
            return Ok(best);
        }
    }
    Ok(best)
}
