//! Repository mirrors: git's `url.<base>.insteadOf` rewriting, applied to the normalized URL.
//!
//! A [`Mirror`] says "fetch what lives under `from` from `to` instead". The declared URL (the
//! crate's `package.repository`, `--repo`, a submodule URL after resolving it against the
//! superproject's declared URL) is normalized first (scheme and host lowercase, `http` read as
//! `https`, `.git` and a trailing `/` removed, forge subpaths such as `/tree/main/sub` cut), then
//! the mirror whose normalized `from` is the longest prefix of it (on a path-component boundary)
//! replaces that prefix with `to`.
//!
//! Deviations from git: git compares raw strings, so `https://github.com/a/x.git` and
//! `http://github.com/a/x/` are different to it; here they map alike. A prefix only matches at a
//! `/` boundary (`…/serde` does not rewrite `…/serde-json`), so the remainder appended to `to`
//! is always empty or starts with `/` and cannot change the target's host or add credentials.
//! The declared URL's `.git` is kept on the rewritten URL. A local target (a path or `file://`)
//! that does not exist is tried with `.git` added or removed, as git does for local
//! repositories, so a plain directory of bare repositories works whether they are named `NAME`
//! or `NAME.git`. Forge paths are case-insensitive and compared lowercase, so the remainder is
//! lowercase too; a local target that does not exist under it is also tried in the declared
//! spelling (`KokaKiwi/rust-hex`, as a `git clone --mirror` of the declared URL names it).
//!
//! Policy: a target is a URL the user named ([`url::normalize_named`]): a local path or `file://`
//! needs no `allow_insecure_transport`, nor does a loopback or private host the target names;
//! `http://` and `git://` targets still need it; `ext::`, ssh and credentials are refused.

use super::error::Error;
use super::url::{self, RepoUrl, Transport};

/// One mirror: URLs under `from` are fetched from `to` instead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mirror {
    /// The prefix of declared repository URLs (e.g. `https://github.com/`).
    pub from: String,
    /// What replaces it: a URL (`https://`, `http://`, `git://`, `file://`) or a local path.
    pub to: String,
}

/// Where a repository is fetched from: the declared URL, or a mirror.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The normalized URL to fetch from.
    pub url: RepoUrl,
    /// `Some(the rewritten URL)` when a mirror applied.
    pub mirrored: Option<String>,
}

impl Mirror {
    /// A mirror from `from` to `to`, both checked: `from` must be an `https`/`http`/`git` URL
    /// prefix (or a local path), and `to` must pass the policy of a URL the user named.
    pub fn new(from: &str, to: &str, allow_insecure: bool) -> Result<Mirror, Error> {
        let bad = |reason: String| Error::InvalidInput {
            message: format!(
                "invalid mirror `{}` = `{}`: {reason}",
                crate::text::escape(from.as_bytes()),
                crate::text::escape(to.as_bytes())
            ),
        };
        if canonical_prefix(from).is_none() {
            return Err(bad(
                "`from` is not an `https://`, `http://` or `git://` URL prefix or a local path"
                    .into(),
            ));
        }
        // The target with a repository path appended must pass the policy.
        let probe = if is_local(to) {
            to.to_owned()
        } else {
            format!("{}/probe", to.trim_end_matches('/'))
        };
        url::normalize_named(&probe, allow_insecure).map_err(|e| bad(e.to_string()))?;
        Ok(Mirror {
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }

    /// Parse `FROM=TO` (the `--mirror` syntax).
    pub fn parse(spec: &str, allow_insecure: bool) -> Result<Mirror, Error> {
        let Some((from, to)) = spec.split_once('=') else {
            return Err(Error::InvalidInput {
                message: format!(
                    "invalid mirror `{}`: expected `FROM=TO`",
                    crate::text::escape(spec.as_bytes())
                ),
            });
        };
        Mirror::new(from.trim(), to.trim(), allow_insecure)
    }
}

/// The mirrors of `FROM=TO` specs (`--mirror`), then those of a configuration file,
/// `(from, to)`, each checked with [`Mirror::new`]. For equal prefixes the first wins, so the
/// command line overrides the file.
pub fn collect(
    specs: &[String],
    file: &[(String, String)],
    allow_insecure: bool,
) -> Result<Vec<Mirror>, Error> {
    let mut out = Vec::new();
    for spec in specs {
        out.push(Mirror::parse(spec, allow_insecure)?);
    }
    for (from, to) in file {
        out.push(Mirror::new(from, to, allow_insecure)?);
    }
    Ok(out)
}

fn is_local(s: &str) -> bool {
    !s.contains("://") || s.to_ascii_lowercase().starts_with("file://")
}

/// The comparable form of a prefix: `scheme://host[:port][/path]` with the scheme and host
/// lowercase, `http` read as `https`, no trailing `/` or `.git`; forge paths lowercase. Local
/// paths become `file://PATH`.
fn canonical_prefix(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if is_local(raw) {
        let path = if raw.to_ascii_lowercase().starts_with("file://") {
            &raw["file://".len()..]
        } else {
            raw
        };
        if !path.starts_with('/') && !path.starts_with('.') {
            return None;
        }
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        return Some(format!("file://{path}"));
    }
    let parsed = ::url::Url::parse(raw).ok()?;
    let scheme = match parsed.scheme() {
        "http" | "https" => "https",
        "git" => "git",
        _ => return None,
    };
    let host = parsed.host_str()?.to_ascii_lowercase();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = parsed.path().trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let path = if url::FORGES.contains(&host.as_str()) {
        path.to_ascii_lowercase()
    } else {
        path.to_owned()
    };
    Some(if path.is_empty() {
        format!("{scheme}://{host}{port}")
    } else {
        format!("{scheme}://{host}{port}/{path}")
    })
}

/// The comparable form of a declared repository URL (see [`canonical_prefix`]), after the
/// normalization of [`url::normalize`] (forge subpaths cut).
/// Also whether the declared URL ends in `.git` (kept on the rewritten URL, as git would).
/// The third value is the key in the declared spelling (forge paths not lowercased), when it
/// differs from the key only in ASCII case.
fn canonical_repo(raw: &str) -> Option<(String, bool, Option<String>)> {
    let u = url::normalize(raw, true).ok()?;
    let dot_git = u.fetch_url.to_ascii_lowercase().ends_with(".git");
    let key = match u.transport {
        Transport::Local => canonical_prefix(raw)?,
        Transport::Http => format!("https{}", u.key.strip_prefix("http")?),
        _ => u.key,
    };
    let declared = u
        .fetch_url
        .split_once("://")
        .map(|(_, rest)| {
            let (scheme, _) = key.split_once("://").unwrap_or_default();
            let rest = rest.trim_end_matches('/');
            format!("{scheme}://{}", rest.strip_suffix(".git").unwrap_or(rest))
        })
        .filter(|d| d != &key && d.eq_ignore_ascii_case(&key));
    Some((key, dot_git, declared))
}

/// The URL `raw` is fetched from under `mirrors`: the longest matching prefix replaced by its
/// target, or `None` when no mirror applies.
pub fn rewrite(raw: &str, mirrors: &[Mirror]) -> Option<String> {
    if mirrors.is_empty() {
        return None;
    }
    let (repo, dot_git, declared) = canonical_repo(raw)?;
    let (mirror, rest) = mirrors
        .iter()
        .filter_map(|m| {
            let from = canonical_prefix(&m.from)?;
            let rest = repo.strip_prefix(&from)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((m, from.len(), rest))
        })
        // Longest prefix wins; among equal prefixes, the first mirror given.
        .min_by_key(|(_, len, _)| std::cmp::Reverse(*len))
        .map(|(m, _, rest)| (m, rest.to_owned()))?;
    let to = mirror.to.trim();
    if rest.is_empty() {
        return Some(to.to_owned());
    }
    let bare = format!("{}{rest}", to.trim_end_matches('/'));
    let with_git = format!("{bare}.git");
    if is_local(&bare) {
        // A directory of bare repositories: `NAME` or `NAME.git`, whichever exists (the
        // declared spelling first); then the same in the declared letter case (the remainder
        // is at the same offset: ASCII lowercasing keeps lengths).
        let exists =
            |t: &str| std::path::Path::new(t.strip_prefix("file://").unwrap_or(t)).exists();
        let pair = |bare: String| {
            let with_git = format!("{bare}.git");
            if dot_git {
                [with_git, bare]
            } else {
                [bare, with_git]
            }
        };
        let mut candidates = pair(bare).to_vec();
        if let Some(cased) = declared
            .as_deref()
            .and_then(|d| d.get(repo.len() - rest.len()..))
        {
            candidates.extend(pair(format!("{}{cased}", to.trim_end_matches('/'))));
        }
        let found = candidates.iter().position(|c| exists(c)).unwrap_or(0);
        return Some(candidates.swap_remove(found));
    }
    Some(if dot_git { with_git } else { bare })
}

/// Where `raw` is fetched from: through a mirror (policy of a URL the user named), else the
/// declared URL itself (policy of `allow_insecure`).
pub(crate) fn target(raw: &str, mirrors: &[Mirror], allow_insecure: bool) -> Result<Target, Error> {
    match rewrite(raw, mirrors) {
        Some(to) => Ok(Target {
            url: url::normalize_named(&to, allow_insecure)?,
            mirrored: Some(to),
        }),
        None => Ok(Target {
            url: url::normalize(raw, allow_insecure)?,
            mirrored: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(from: &str, to: &str) -> Mirror {
        Mirror::new(from, to, true).unwrap()
    }

    #[test]
    fn longest_prefix_wins_on_normalized_urls() {
        let ms = [
            m("https://github.com/", "git://127.0.0.1:9/gh/"),
            m("https://github.com/dot/", "git://127.0.0.1:9/dot/"),
            m("https://github.com/serde-rs/", "/srv/serde"),
            m(
                "https://github.com/serde-rs/json.git",
                "https://m.example/json",
            ),
        ];
        let r = |u: &str| rewrite(u, &ms);
        assert_eq!(
            r("https://github.com/a/b").unwrap(),
            "git://127.0.0.1:9/gh/a/b"
        );
        assert_eq!(
            r("https://github.com/dot/b.git").unwrap(),
            "git://127.0.0.1:9/dot/b.git"
        );
        for spelling in [
            "http://github.com/a/b/",
            "https://github.com/a/b/tree/main/sub",
            "HTTPS://GitHub.com/a/B",
        ] {
            assert_eq!(
                r(spelling).unwrap(),
                "git://127.0.0.1:9/gh/a/b",
                "{spelling}"
            );
        }
        assert_eq!(
            r("https://github.com/serde-rs/serde").unwrap(),
            "/srv/serde/serde"
        );
        assert_eq!(
            r("https://github.com/serde-rs/json/").unwrap(),
            "https://m.example/json"
        );
        // A component boundary: `serde-rs-x` is not under `serde-rs/`.
        assert_eq!(
            r("https://github.com/serde-rs-x/y").unwrap(),
            "git://127.0.0.1:9/gh/serde-rs-x/y"
        );
        assert_eq!(r("https://gitlab.com/a/b"), None);
        assert_eq!(rewrite("https://github.com/a/b", &[]), None);
    }

    #[test]
    fn local_directories_of_bare_repositories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("o/plain")).unwrap();
        std::fs::create_dir_all(dir.path().join("o/dotted.git")).unwrap();
        let ms = [m("https://h.example/", dir.path().to_str().unwrap())];
        let at = |p: &str| dir.path().join(p).display().to_string();
        for (declared, want) in [
            ("https://h.example/o/plain", "o/plain"),
            ("https://h.example/o/plain.git", "o/plain"),
            ("https://h.example/o/dotted", "o/dotted.git"),
            ("https://h.example/o/dotted.git", "o/dotted.git"),
            ("https://h.example/o/absent.git", "o/absent.git"),
        ] {
            assert_eq!(rewrite(declared, &ms).unwrap(), at(want), "{declared}");
        }
    }

    #[test]
    fn local_directories_of_forge_repositories_in_either_letter_case() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("KokaKiwi/rust-hex.git")).unwrap();
        std::fs::create_dir_all(dir.path().join("servo/rust-fnv")).unwrap();
        std::fs::create_dir_all(dir.path().join("both/x")).unwrap();
        std::fs::create_dir_all(dir.path().join("Both/X")).unwrap();
        let ms = [m("https://github.com/", dir.path().to_str().unwrap())];
        let at = |p: &str| dir.path().join(p).display().to_string();
        for (declared, want) in [
            (
                "https://github.com/KokaKiwi/rust-hex",
                "KokaKiwi/rust-hex.git",
            ),
            (
                "https://GitHub.com/KokaKiwi/rust-hex.git/",
                "KokaKiwi/rust-hex.git",
            ),
            ("https://github.com/Servo/Rust-FNV", "servo/rust-fnv"),
            // The lowercase spelling first when both exist.
            ("https://github.com/Both/X", "both/x"),
            // Neither exists: the lowercase spelling (the error names it).
            ("https://github.com/Absent/Repo", "absent/repo"),
        ] {
            assert_eq!(rewrite(declared, &ms).unwrap(), at(want), "{declared}");
        }
        // A remote target keeps the one lowercase spelling.
        let remote = [m("https://github.com/", "https://m.example/gh/")];
        assert_eq!(
            rewrite("https://github.com/KokaKiwi/rust-hex", &remote).unwrap(),
            "https://m.example/gh/kokakiwi/rust-hex"
        );
    }

    #[test]
    fn boundaries_and_equal_prefixes() {
        let ms = [
            m("https://example.org/ab", "https://one.example/x"),
            m("https://example.org/a", "https://two.example/y"),
        ];
        assert_eq!(rewrite("https://example.org/abc/d", &ms), None);
        assert_eq!(
            rewrite("https://example.org/a/d", &ms).unwrap(),
            "https://two.example/y/d"
        );
        let first = [m("https://h.example/", "/a"), m("https://h.example", "/b")];
        assert_eq!(rewrite("https://h.example/x/y", &first).unwrap(), "/a/x/y");
    }

    #[test]
    fn targets_follow_the_named_policy() {
        for bad in [
            "ext::sh -c x",
            "ssh://git@h/x",
            "git@h:x",
            "https://u:p@h/x",
            "https://u@h/",
            "foo::bar",
        ] {
            let e = Mirror::new("https://github.com/", bad, true).expect_err(bad);
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidInput, "{bad}");
        }
        assert!(Mirror::new("ssh://github.com/", "/srv", true).is_err());
        assert!(Mirror::parse("https://github.com/", true).is_err());
        // `git://` and `http://` need allow_insecure; local paths and named private hosts do not.
        assert!(Mirror::new("https://github.com/", "git://127.0.0.1:1/", false).is_err());
        assert!(Mirror::new("https://github.com/", "http://mirror.example/", false).is_err());
        assert!(Mirror::new("https://github.com/", "/srv/mirrors", false).is_ok());
        assert!(Mirror::new("https://github.com/", "file:///srv/mirrors", false).is_ok());
        let named = Mirror::new("https://github.com/", "https://127.0.0.1:1/", false).unwrap();
        let t = target("https://github.com/a/b", &[named], false).unwrap();
        assert!(t.url.allow_private);
        assert_eq!(t.url.fetch_url, "https://127.0.0.1:1/a/b");
        // Not rewritten: the private host is refused as before.
        assert!(target("https://127.0.0.1:1/a/b", &[], false).is_err());
    }
}
