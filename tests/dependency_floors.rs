//! Dependency floors of shared/SECURITY.md §5 promise 14, checked on `Cargo.lock` (every
//! version of the crate in the graph, so a second, older copy pulled in by another dependency
//! fails too). `deny.toml` has the same floors as `bans.deny` rules for `cargo deny`.

use std::path::Path;

/// `(crate, minimum version)`.
const FLOORS: &[(&str, (u64, u64, u64))] = &[
    ("gix", (0, 87, 0)),
    ("tar", (0, 4, 45)),
    ("pyo3", (0, 29, 0)),
];

fn parse(v: &str) -> (u64, u64, u64) {
    let core = v.split(['-', '+']).next().unwrap();
    let mut it = core.split('.').map(|p| p.parse::<u64>().unwrap());
    (
        it.next().unwrap(),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

fn locked(lock: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(lock).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn locked_versions_meet_the_security_floors() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    let packages = locked(&lock);
    for (name, floor) in FLOORS {
        let versions: Vec<&String> = packages
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        assert!(!versions.is_empty(), "`{name}` is not in Cargo.lock");
        for v in versions {
            assert!(
                parse(v) >= *floor,
                "`{name}` {v} is below the floor {}.{}.{} (SECURITY.md §5 promise 14)",
                floor.0,
                floor.1,
                floor.2
            );
        }
    }
    // Never libgit2 (promise 1: no git, only gix).
    assert!(
        !packages
            .iter()
            .any(|(n, _)| n == "git2" || n == "libgit2-sys")
    );
}

#[test]
fn deny_toml_carries_the_same_floors() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deny.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let deny: Vec<&str> = doc["bans"]["deny"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["crate"].as_str())
        .collect();
    for (name, (a, b, c)) in FLOORS {
        let want = if *c == 0 {
            format!("{name}:<{a}.{b}")
        } else {
            format!("{name}:<{a}.{b}.{c}")
        };
        assert!(
            deny.contains(&want.as_str()),
            "deny.toml lacks `{want}`: {deny:?}"
        );
    }
}

#[test]
fn version_parsing() {
    assert_eq!(parse("0.4.46"), (0, 4, 46));
    assert_eq!(parse("1.0.0-rc.1"), (1, 0, 0));
    assert!(parse("0.86.9") < (0, 87, 0));
}
