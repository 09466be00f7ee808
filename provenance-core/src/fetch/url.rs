//! Repository URL normalization and transport policy (shared/SECURITY.md M9, R1, R3).
//!
//! Every URL is decided here, before any network or process activity: only `https` by default;
//! `http` and `git` (and `file`, opened locally, never through a `git` process) only with
//! `allow_insecure_transport`; `ssh`, scp-like `user@host:path`, `ext::` and every other
//! transport are refused. URLs carrying credentials, control characters or punycode hosts are
//! refused as well.

use crate::report::{Finding, Severity};

use super::error::Error;

/// The longest URL accepted.
const MAX_URL_BYTES: usize = 2048;

/// Hosts whose web URLs put `/tree/<branch>/<dir>` (or `/blob/…`) after `owner/repo`.
pub(crate) const FORGES: &[&str] = &[
    "github.com",
    "gitlab.com",
    "codeberg.org",
    "bitbucket.org",
    "gitea.com",
    "sr.ht",
    "git.sr.ht",
];

/// How a repository is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// `https://`
    Https,
    /// `http://` (only with `allow_insecure_transport`).
    Http,
    /// `git://` (only with `allow_insecure_transport`).
    Git,
    /// `file://` or a local path (only with `allow_insecure_transport` when it comes from a crate).
    Local,
}

/// A repository URL after normalization and policy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl {
    /// The URL to fetch from (`.git` kept when given; subpaths, query, fragment and trailing
    /// `/` removed; `http` upgraded to `https` unless insecure transports are allowed).
    pub fetch_url: String,
    /// The identity used for the cache: scheme, lowercase host, port and path without `.git`.
    pub key: String,
    /// The host (lowercase), or `""` for local paths.
    pub host: String,
    /// The transport.
    pub transport: Transport,
    /// For [`Transport::Local`], the directory.
    pub local_path: Option<std::path::PathBuf>,
    /// What normalization changed, as findings (`repository_url_normalized`).
    pub findings: Vec<Finding>,
    /// The user named this URL's host as a mirror (`--mirror`): it may be a loopback or
    /// private address without `allow_insecure_transport` (the transport rules still apply).
    pub allow_private: bool,
}

fn refuse(url: &str, reason: impl Into<String>) -> Error {
    Error::UrlPolicy {
        url: crate::text::escape(url.as_bytes()),
        reason: reason.into(),
    }
}

/// Normalize `raw` and apply the transport policy.
pub fn normalize(raw: &str, allow_insecure: bool) -> Result<RepoUrl, Error> {
    normalize_as(raw, allow_insecure, false)
}

/// [`normalize`] for a URL the user named (a mirror target): a local path or `file://` is
/// allowed without `allow_insecure`, and so is a loopback or private host (the user named it);
/// `http://` and `git://` still need `allow_insecure`, and everything [`normalize`] refuses
/// otherwise (other transports, credentials, control characters) is refused alike.
pub fn normalize_named(raw: &str, allow_insecure: bool) -> Result<RepoUrl, Error> {
    normalize_as(raw, allow_insecure, true)
}

/// [`normalize`], with `named`: the user named this URL (see [`normalize_named`]).
///
/// Long because it is the URL policy (shared/SECURITY.md §4.4) read top to bottom: every
/// refusal and every normalization in the order they apply, which a split would scatter.
fn normalize_as(raw: &str, allow_insecure: bool, named: bool) -> Result<RepoUrl, Error> {
    if raw.len() > MAX_URL_BYTES {
        return Err(refuse(
            &raw.chars().take(64).collect::<String>(),
            format!("the URL is longer than {MAX_URL_BYTES} bytes"),
        ));
    }
    if raw.chars().any(|c| c.is_control() || c == ' ' || c == '\\') {
        return Err(refuse(
            raw,
            "the URL contains whitespace, backslashes or control characters",
        ));
    }
    let trimmed = raw.trim();
    let lower = trimmed.to_ascii_lowercase();
    if trimmed.is_empty() {
        return Err(refuse(raw, "the URL is empty"));
    }
    if trimmed.starts_with('-') {
        return Err(refuse(raw, "the URL starts with `-`"));
    }
    let scheme_end = lower.find("://");
    if let Some(i) = lower.find("::")
        && scheme_end.is_none_or(|s| i < s)
    {
        return Err(refuse(
            raw,
            "remote helper transports (`<transport>::<address>`, e.g. `ext::`) are refused",
        ));
    }
    let Some(scheme_end) = scheme_end else {
        if lower.starts_with("file:") {
            return Err(refuse(raw, "malformed `file:` URL"));
        }
        if trimmed.contains(':') && !trimmed.starts_with('/') && !trimmed.starts_with('.') {
            return Err(refuse(
                raw,
                "scp-like ssh addresses (`user@host:path`) are refused",
            ));
        }
        return local(
            raw,
            std::path::PathBuf::from(trimmed),
            allow_insecure || named,
        );
    };
    let scheme = &lower[..scheme_end];
    match scheme {
        "https" | "http" | "git" => {}
        "file" => {
            let parsed = url::Url::parse(trimmed).map_err(|e| refuse(raw, e.to_string()))?;
            let path = parsed
                .to_file_path()
                .map_err(|()| refuse(raw, "not a local `file://` path"))?;
            return local(raw, path, allow_insecure || named);
        }
        "ssh" | "git+ssh" | "ssh+git" => {
            return Err(refuse(
                raw,
                "the `ssh` transport is refused (it would run `ssh`)",
            ));
        }
        other => {
            return Err(refuse(raw, format!("the `{other}` transport is refused")));
        }
    }
    let mut parsed = url::Url::parse(trimmed).map_err(|e| refuse(raw, e.to_string()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse(
            raw,
            "URLs with credentials (`user@` / `user:password@`) are refused",
        ));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        None => return Err(refuse(raw, "the URL has no host")),
    };
    if host.split('.').any(|l| l.starts_with("xn--")) {
        return Err(refuse(
            raw,
            format!("internationalized host `{host}` is refused (possible homograph)"),
        ));
    }
    if !allow_insecure && !named && is_private_host(parsed.host().as_ref()) {
        return Err(refuse(
            raw,
            format!("host `{host}` is a loopback, private or link-local address"),
        ));
    }
    let mut findings = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let transport = match scheme {
        "https" => Transport::Https,
        "git" if allow_insecure => Transport::Git,
        "git" => {
            return Err(refuse(
                raw,
                "the unauthenticated `git://` transport is refused (pass `--allow-insecure-transport` to allow it)",
            ));
        }
        _ if allow_insecure => Transport::Http,
        // A mirror the user names is not silently upgraded: it may not speak `https`.
        _ if named => {
            return Err(refuse(
                raw,
                "the unauthenticated `http://` transport is refused (pass `--allow-insecure-transport` to allow it)",
            ));
        }
        _ => {
            parsed
                .set_scheme("https")
                .map_err(|()| refuse(raw, "cannot upgrade to `https`"))?;
            let _ = parsed.set_port(None);
            notes.push("`http://` upgraded to `https://`".into());
            Transport::Https
        }
    };
    if parsed.query().is_some() || parsed.fragment().is_some() {
        parsed.set_query(None);
        parsed.set_fragment(None);
        notes.push("query and fragment removed".into());
    }
    let mut segments: Vec<String> = parsed
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if segments.iter().any(|s| s == ".." || s == ".") {
        return Err(refuse(raw, "the URL path contains `.` or `..` segments"));
    }
    // Web URLs of a subdirectory: `/owner/repo/tree/<branch>/<dir>`, `/group/project/-/tree/…`.
    let cut = if let Some(i) = segments.iter().position(|s| s == "-") {
        Some(i)
    } else if host == "gitlab.com" {
        None
    } else if FORGES.contains(&host.as_str()) {
        (segments.len() > 2).then_some(2)
    } else {
        segments
            .iter()
            .enumerate()
            .position(|(i, s)| i >= 2 && i + 1 < segments.len() && (s == "tree" || s == "blob"))
    };
    if let Some(cut) = cut {
        notes.push(format!(
            "subpath `/{}` removed: the repository root is used",
            segments[cut..].join("/")
        ));
        segments.truncate(cut);
    }
    if segments.is_empty() {
        return Err(refuse(raw, "the URL names no repository path"));
    }
    let path = segments.join("/");
    parsed.set_path(&format!("/{path}"));
    let fetch_url = parsed.as_str().trim_end_matches('/').to_owned();
    let key_path = path.strip_suffix(".git").unwrap_or(&path);
    let key_path = if FORGES.contains(&host.as_str()) {
        key_path.to_ascii_lowercase()
    } else {
        key_path.to_owned()
    };
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let key = format!("{}://{host}{port}/{key_path}", parsed.scheme());
    let original = trimmed.trim_end_matches('/');
    let original = original.strip_suffix(".git").unwrap_or(original);
    if !notes.is_empty() || original != fetch_url.strip_suffix(".git").unwrap_or(&fetch_url) {
        if notes.is_empty() {
            notes.push("trailing `/` or `.git` normalized".into());
        }
        findings.push(Finding::new(
            "repository_url_normalized",
            Severity::Info,
            format!(
                "repository URL `{}` normalized to `{fetch_url}`: {}",
                crate::text::escape(raw.as_bytes()),
                notes.join("; ")
            ),
        ));
    }
    Ok(RepoUrl {
        fetch_url,
        key,
        host,
        transport,
        local_path: None,
        findings,
        allow_private: named,
    })
}

fn local(raw: &str, path: std::path::PathBuf, allow_insecure: bool) -> Result<RepoUrl, Error> {
    if !allow_insecure {
        return Err(refuse(
            raw,
            "local repositories (`file://` or a path) named by a crate are refused (pass `--allow-insecure-transport` to allow them)",
        ));
    }
    Ok(RepoUrl {
        fetch_url: raw.to_owned(),
        key: format!("file://{}", path.display()),
        host: String::new(),
        transport: Transport::Local,
        local_path: Some(path),
        findings: Vec::new(),
        allow_private: false,
    })
}

/// Whether a host is a loopback, private, link-local or unspecified address (or `localhost`).
pub(crate) fn is_private_host(host: Option<&url::Host<&str>>) -> bool {
    match host {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(a)) => is_private_ip(std::net::IpAddr::V4(*a)),
        Some(url::Host::Ipv6(a)) => is_private_ip(std::net::IpAddr::V6(*a)),
        None => true,
    }
}

/// Whether an address must not be connected to without `allow_insecure_transport`.
pub(crate) fn is_private_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => {
            a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
        }
        std::net::IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_private_ip(std::net::IpAddr::V4(v4));
            }
            a.is_loopback()
                || a.is_unspecified()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Resolve a submodule URL relative to its parent (`./x`, `../x`), as git does.
pub fn resolve_relative(parent: &str, url: &str) -> String {
    if !(url.starts_with("./") || url.starts_with("../")) {
        return url.to_owned();
    }
    let mut base = parent.trim_end_matches('/').to_owned();
    let mut rest = url;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            rest = r;
            if let Some(i) = base.rfind('/') {
                // Never climb above `scheme://host`.
                if base[..i].ends_with('/') || !base[..i].contains("://") && base[..i].is_empty() {
                    break;
                }
                base.truncate(i);
            }
        } else {
            break;
        }
    }
    format!("{base}/{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_forge_urls() {
        let u = normalize(
            "https://github.com/Serde-rs/serde/tree/master/serde_derive/",
            false,
        )
        .unwrap();
        assert_eq!(u.fetch_url, "https://github.com/Serde-rs/serde");
        assert_eq!(u.key, "https://github.com/serde-rs/serde");
        assert_eq!(u.findings.len(), 1);
        let u = normalize("http://github.com/a/b.git", false).unwrap();
        assert_eq!(u.fetch_url, "https://github.com/a/b.git");
        assert_eq!(u.key, "https://github.com/a/b");
        assert_eq!(u.transport, Transport::Https);
        let u = normalize("https://gitlab.com/g/p/-/tree/main/sub", false).unwrap();
        assert_eq!(u.fetch_url, "https://gitlab.com/g/p");
        let u = normalize("https://example.org/git/repo.git/", false).unwrap();
        assert_eq!(u.fetch_url, "https://example.org/git/repo.git");
        assert!(u.findings.is_empty());
    }

    #[test]
    fn refuses_by_policy() {
        for bad in [
            "ext::sh -c touch% /tmp/pwned",
            "ext::sh",
            "ssh://-oProxyCommand=x/y",
            "ssh://git@github.com/a/b",
            "git@github.com:a/b.git",
            "file:///home",
            "/abs/path",
            "foo::bar",
            "git://github.com/a/b",
            "http://169.254.169.254/",
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://u:p@host/x",
            "https://good@evil/x",
            "https://host/x\r\n",
            "https://host/\u{1b}]0;x",
            "https://xn--gthub-n4a.com/a/b",
            "https://gіthub.com/a/b",
            "-u./payload",
            "https://github.com/",
        ] {
            let e = normalize(bad, false).expect_err(bad);
            assert_eq!(e.kind(), crate::error::ErrorKind::UrlPolicy, "{bad}");
        }
        let long = format!("https://h/{}", "a".repeat(70_000));
        assert!(normalize(&long, false).is_err());
        assert_eq!(
            normalize("git://127.0.0.1:1/r", true).unwrap().transport,
            Transport::Git
        );
        assert_eq!(
            normalize("http://127.0.0.1:1/r", true).unwrap().transport,
            Transport::Http
        );
        assert_eq!(
            normalize("/tmp/x", true).unwrap().transport,
            Transport::Local
        );
    }

    #[test]
    fn relative_submodule_urls() {
        assert_eq!(
            resolve_relative("https://h/o/p", "../q.git"),
            "https://h/o/q.git"
        );
        assert_eq!(
            resolve_relative("https://h/o/p/", "./sub"),
            "https://h/o/p/sub"
        );
        assert_eq!(
            resolve_relative("https://h/o/p", "../../x/y"),
            "https://h/x/y"
        );
        assert_eq!(
            resolve_relative("https://h/o/p", "https://e/z"),
            "https://e/z"
        );
    }
}
