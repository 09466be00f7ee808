//! The watch database (SQLite through `rusqlite`, WAL): crates and versions seen, every
//! verification, yanks, alerts and their deliveries (an outbox), feed state.
//!
//! Crash safety: every change that belongs together is one transaction — an index answer's
//! versions with its validators; a verification with its version's new status, its alert and
//! the alert's outbox rows. A process killed at any moment leaves either all of it or none:
//! nothing recorded is lost, and what was not recorded is done again by the next run.
//! `synchronous = FULL`, so a commit also survives a power loss.
//!
//! The schema is versioned: `migrations/NNN_*.sql`, applied in order, each in its own
//! transaction with its number in `schema_version`.

use std::path::Path;

use provenance_core::batch::inputs::precedence;
use provenance_core::batch::policy::Policy;
use provenance_core::batch::{Entry, Outcome};
use provenance_core::fetch::Validators;
use provenance_core::fetch::registry::IndexLine;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// The migrations, in order: (number, SQL).
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("migrations/001_initial.sql"))];

/// The tool version recorded with every verification.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The current time, RFC 3339 UTC, to the second.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn sql(e: &rusqlite::Error, path: &str) -> String {
    format!("database `{path}`: {e}")
}

/// Which versions of a crate the first poll verifies; the others are recorded as history.
#[derive(Debug, Clone)]
pub enum Start {
    /// These exact versions (a lock file's, a list's `NAME@VERSION`).
    Pinned(Vec<String>),
    /// The newest version (semantic-version precedence, releases before pre-releases, yanked
    /// ones left out).
    Newest,
    /// Every version.
    All,
}

/// What recording one index answer changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Recorded {
    /// Versions added as `pending`.
    pub new_pending: usize,
    /// Versions whose yank state changed.
    pub yank_changes: usize,
}

/// An outbox row to deliver.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The delivery's row id.
    pub id: i64,
    /// The alert's row id.
    pub alert_id: i64,
    /// The alert's JSON body.
    pub body: String,
}

/// The watch database.
pub struct Db {
    conn: Connection,
    path: String,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Open (or create) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Db, String> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        let conn = Connection::open(path).map_err(|e| sql(&e, &shown))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sql(&e, &shown))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| sql(&e, &shown))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!(
                "database `{shown}`: cannot use write-ahead logging (journal mode `{mode}`)"
            ));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| sql(&e, &shown))?;
        let mut db = Db { conn, path: shown };
        db.migrate()?;
        Ok(db)
    }

    fn err(&self, e: &rusqlite::Error) -> String {
        sql(e, &self.path)
    }

    /// Apply the migrations the database does not have yet.
    fn migrate(&mut self) -> Result<(), String> {
        self.conn
            .execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .map_err(|e| self.err(&e))?;
        let current: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(&e))?;
        let newest = MIGRATIONS.last().map_or(0, |m| m.0);
        if current > newest {
            return Err(format!(
                "database `{}` has schema version {current}, newer than this tool's {newest}: use a newer crate-provenance",
                self.path
            ));
        }
        for (n, text) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            let path = self.path.clone();
            let tx = self.conn.transaction().map_err(|e| sql(&e, &path))?;
            tx.execute_batch(text)
                .and_then(|()| tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [n]))
                .and_then(|_| tx.commit())
                .map_err(|e| format!("database `{path}`: migration {n:03}: {e}"))?;
        }
        Ok(())
    }

    /// Whether the crate's history is recorded, and the validators of its last index answer.
    pub fn crate_state(&self, name: &str) -> Result<(bool, Validators), String> {
        let row = self
            .conn
            .query_row(
                "SELECT initialized, etag, last_modified FROM crates WHERE name = ?1",
                [name.to_ascii_lowercase()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? != 0,
                        Validators {
                            etag: r.get(1)?,
                            last_modified: r.get(2)?,
                        },
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(&e))?;
        Ok(row.unwrap_or_default())
    }

    /// Record an index answer for `name` in one transaction: on the crate's first answer, its
    /// versions (the `start` ones `pending`, the others `history`); later, versions not seen
    /// before as `pending`, and yank changes. The validators are stored with them.
    pub fn record_index(
        &mut self,
        name: &str,
        lines: &[IndexLine],
        validators: &Validators,
        start: &Start,
    ) -> Result<Recorded, String> {
        let path = self.path.clone();
        let key = name.to_ascii_lowercase();
        let now = now();
        let tx = self.conn.transaction().map_err(|e| sql(&e, &path))?;
        let recorded = record_index_tx(&tx, &key, name, lines, validators, start, &now)
            .map_err(|e| sql(&e, &path))?;
        crate::watch::pause("record-index");
        tx.commit().map_err(|e| sql(&e, &path))?;
        Ok(recorded)
    }

    /// Mark pinned versions that were recorded as history `pending` again (a lock file moved
    /// to a version published before watching began).
    pub fn repin(&mut self, pins: &[(String, String)]) -> Result<usize, String> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql(&e, &path))?;
        let mut n = 0;
        for (name, version) in pins {
            n += tx
                .execute(
                    "UPDATE versions SET status = 'pending' WHERE name = ?1 AND version = ?2 AND status = 'history'",
                    params![name.to_ascii_lowercase(), version],
                )
                .map_err(|e| sql(&e, &path))?;
        }
        tx.commit().map_err(|e| sql(&e, &path))?;
        Ok(n)
    }

    /// Versions to verify: `(display name, version)`, oldest first.
    pub fn pending(&self) -> Result<Vec<(String, String)>, String> {
        let mut st = self
            .conn
            .prepare(
                "SELECT c.display_name, v.version FROM versions v JOIN crates c ON c.name = v.name
                 WHERE v.status = 'pending' ORDER BY v.first_seen, v.name, v.version",
            )
            .map_err(|e| self.err(&e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Record a verification of `origin` (`watch` / `import`); for `watch`, in the same
    /// transaction, the version's status and — when `policy` denies the verdict and no
    /// exemption covers it — the alert and an outbox row per target. Returns the alert's id.
    pub fn record_result(
        &mut self,
        entry: &Entry,
        origin: &str,
        alert: Option<(&Policy, &[String])>,
    ) -> Result<Option<i64>, String> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql(&e, &path))?;
        let id = record_result_tx(&tx, entry, origin, alert).map_err(|e| sql(&e, &path))?;
        crate::watch::pause("record-result");
        tx.commit().map_err(|e| sql(&e, &path))?;
        Ok(id)
    }

    /// Load results lines (`scan --out`, Dask) as `import` verifications, one transaction per
    /// file; a line identical to a recorded verification is skipped. Returns (added, known).
    pub fn import(&mut self, entries: &[Entry]) -> Result<(usize, usize), String> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql(&e, &path))?;
        let mut n = (0, 0);
        for e in entries {
            let line = e.to_line();
            let known: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM verifications WHERE name = ?1 AND version = ?2 AND report = ?3)",
                    params![e.name.to_ascii_lowercase(), e.version, line],
                    |r| r.get(0),
                )
                .map_err(|err| sql(&err, &path))?;
            if known {
                n.1 += 1;
            } else {
                record_result_tx(&tx, e, "import", None).map_err(|err| sql(&err, &path))?;
                n.0 += 1;
            }
        }
        tx.commit().map_err(|e| sql(&e, &path))?;
        Ok(n)
    }

    /// Outbox rows of `target` not delivered yet, oldest first.
    pub fn undelivered(&self, target: &str) -> Result<Vec<Delivery>, String> {
        let mut st = self
            .conn
            .prepare(
                "SELECT d.id, d.alert_id, a.body FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                 WHERE d.target = ?1 AND d.state = 'pending' ORDER BY d.id",
            )
            .map_err(|e| self.err(&e))?;
        let rows = st
            .query_map([target], |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    alert_id: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Record one delivery attempt: delivered, or its failure.
    pub fn attempted(
        &self,
        id: i64,
        status: Option<u16>,
        error: Option<&str>,
    ) -> Result<(), String> {
        let delivered = error.is_none();
        self.conn
            .execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_status = ?2, last_error = ?3,
                 state = CASE WHEN ?4 THEN 'delivered' ELSE state END,
                 delivered_at = CASE WHEN ?4 THEN ?5 ELSE delivered_at END WHERE id = ?1",
                params![id, status, error, delivered, now()],
            )
            .map(drop)
            .map_err(|e| self.err(&e))
    }

    /// The feed's validators and the newest item time seen so far.
    pub fn feed_state(&self, url: &str) -> Result<(Validators, Option<i64>), String> {
        let row = self
            .conn
            .query_row(
                "SELECT etag, last_modified, newest_seen FROM feeds WHERE url = ?1",
                [url],
                |r| {
                    Ok((
                        Validators {
                            etag: r.get(0)?,
                            last_modified: r.get(1)?,
                        },
                        r.get(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(&e))?;
        Ok(row.unwrap_or_default())
    }

    /// Record a feed answer in one transaction: its items' versions as `pending` (unless
    /// known), a gap when its oldest item is newer than the newest seen before, the
    /// validators and the newest item time. Returns (new versions, gap recorded).
    pub fn record_feed(
        &mut self,
        url: &str,
        items: &[(String, String, Option<i64>)],
        validators: &Validators,
    ) -> Result<(usize, bool), String> {
        let path = self.path.clone();
        let (_, newest_before) = self.feed_state(url)?;
        let now = now();
        let tx = self.conn.transaction().map_err(|e| sql(&e, &path))?;
        let done = record_feed_tx(&tx, url, items, validators, newest_before, &now)
            .map_err(|e| sql(&e, &path))?;
        tx.commit().map_err(|e| sql(&e, &path))?;
        Ok(done)
    }

    /// The connection, for reports ([`super::site`]).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Record one poll cycle's counts.
    pub fn record_poll(&self, started: &str, counts: [usize; 5]) -> Result<(), String> {
        let c = counts.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.conn
            .execute(
                "INSERT INTO polls (started, finished, crates, not_modified, modified, errors, new_versions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![started, now(), c[0], c[1], c[2], c[3], c[4]],
            )
            .map(drop)
            .map_err(|e| self.err(&e))
    }
}

/// Long because the first answer and a later one are two branches over the same rows.
fn record_index_tx(
    tx: &Transaction<'_>,
    key: &str,
    display: &str,
    lines: &[IndexLine],
    validators: &Validators,
    start: &Start,
    now: &str,
) -> rusqlite::Result<Recorded> {
    let display = lines.first().map_or(display, |l| l.name.as_str());
    // Nothing is written when nothing changed (an index without validators answers every
    // poll with a body): a transaction without writes costs no sync.
    tx.execute(
        "INSERT INTO crates (name, display_name, first_seen) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name
         WHERE display_name <> excluded.display_name",
        params![key, display, now],
    )?;
    let (initialized, previous): (bool, Validators) = tx.query_row(
        "SELECT initialized, etag, last_modified FROM crates WHERE name = ?1",
        [key],
        |r| {
            Ok((
                r.get::<_, i64>(0)? != 0,
                Validators {
                    etag: r.get(1)?,
                    last_modified: r.get(2)?,
                },
            ))
        },
    )?;
    let newest = match start {
        Start::Newest => newest(lines),
        _ => None,
    };
    let mut recorded = Recorded::default();
    for l in lines {
        let known: Option<bool> = tx
            .query_row(
                "SELECT yanked FROM versions WHERE name = ?1 AND version = ?2",
                params![key, l.vers],
                |r| Ok(r.get::<_, i64>(0)? != 0),
            )
            .optional()?;
        if let Some(yanked) = known {
            tx.execute(
                    "UPDATE versions SET checksum = COALESCE(checksum, ?3), published = COALESCE(published, ?4)
                     WHERE name = ?1 AND version = ?2
                     AND ((checksum IS NULL AND ?3 IS NOT NULL) OR (published IS NULL AND ?4 IS NOT NULL))",
                    params![key, l.vers, l.cksum, l.pubtime],
                )?;
            if yanked != l.yanked {
                tx.execute(
                    "UPDATE versions SET yanked = ?3 WHERE name = ?1 AND version = ?2",
                    params![key, l.vers, l.yanked],
                )?;
                tx.execute(
                        "INSERT INTO yank_events (name, version, yanked, seen_at) VALUES (?1, ?2, ?3, ?4)",
                        params![key, l.vers, l.yanked, now],
                    )?;
                recorded.yank_changes += 1;
            }
        } else {
            let verify = if initialized {
                true
            } else {
                match start {
                    Start::Pinned(v) => v.contains(&l.vers),
                    Start::Newest => newest == Some(l.vers.as_str()),
                    Start::All => true,
                }
            };
            tx.execute(
                    "INSERT INTO versions (name, version, checksum, published, first_seen, yanked, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        key,
                        l.vers,
                        l.cksum,
                        l.pubtime,
                        now,
                        l.yanked,
                        if verify { "pending" } else { "history" }
                    ],
                )?;
            recorded.new_pending += usize::from(verify);
        }
    }
    let changed = recorded.new_pending > 0 || recorded.yank_changes > 0;
    if !initialized || changed || previous != *validators {
        tx.execute(
            "UPDATE crates SET initialized = 1, etag = ?2, last_modified = ?3, last_polled = ?4 WHERE name = ?1",
            params![key, validators.etag, validators.last_modified, now],
        )?;
    }
    Ok(recorded)
}

/// The newest version of an index answer: by semantic-version precedence, releases before
/// pre-releases, yanked versions left out (as cargo resolves).
fn newest(lines: &[IndexLine]) -> Option<&str> {
    let candidates: Vec<&IndexLine> = lines.iter().filter(|l| !l.yanked).collect();
    let release = |l: &&IndexLine| !l.vers.split('+').next().unwrap_or_default().contains('-');
    let pool: Vec<&IndexLine> = if candidates.iter().any(release) {
        candidates.into_iter().filter(release).collect()
    } else {
        candidates
    };
    pool.into_iter()
        .max_by(|a, b| precedence(&a.vers).cmp(&precedence(&b.vers)))
        .map(|l| l.vers.as_str())
}

fn record_result_tx(
    tx: &Transaction<'_>,
    entry: &Entry,
    origin: &str,
    alert: Option<(&Policy, &[String])>,
) -> rusqlite::Result<Option<i64>> {
    let key = entry.name.to_ascii_lowercase();
    let now = now();
    let (verdict, error_kind) = match &entry.outcome {
        Outcome::Report(r) => (Some(r.verdict.as_str().to_owned()), None),
        Outcome::Error { kind, .. } => (None, Some(kind.clone())),
    };
    tx.execute(
        "INSERT INTO crates (name, display_name, first_seen) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
        params![key, entry.name, now],
    )?;
    tx.execute(
        "INSERT INTO versions (name, version, first_seen, status) VALUES (?1, ?2, ?3, 'verified')
         ON CONFLICT (name, version) DO UPDATE SET status = 'verified'",
        params![key, entry.version, now],
    )?;
    if let Outcome::Report(r) = &entry.outcome
        && !r.krate.sha256.is_empty()
    {
        tx.execute(
            "UPDATE versions SET checksum = COALESCE(checksum, ?3) WHERE name = ?1 AND version = ?2",
            params![key, entry.version, r.krate.sha256],
        )?;
    }
    tx.execute(
        "INSERT INTO verifications (name, version, tool_version, verified_at, verdict, error_kind, report, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![key, entry.version, TOOL_VERSION, now, verdict, error_kind, entry.to_line(), origin],
    )?;
    let verification = tx.last_insert_rowid();
    let Some((policy, targets)) = alert else {
        return Ok(None);
    };
    let shown = verdict
        .as_deref()
        .unwrap_or(provenance_core::batch::policy::ERROR);
    if !policy.denies(shown) || policy.exemption(&entry.key()).is_some() {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO alerts (verification_id, name, version, verdict, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, '')",
        params![verification, key, entry.version, shown, now],
    )?;
    let alert_id = tx.last_insert_rowid();
    let body = crate::watch::alert::body(alert_id, entry, &now);
    tx.execute(
        "UPDATE alerts SET body = ?2 WHERE id = ?1",
        params![alert_id, body],
    )?;
    for t in targets {
        tx.execute(
            "INSERT INTO deliveries (alert_id, target, state) VALUES (?1, ?2, 'pending')",
            params![alert_id, t],
        )?;
    }
    Ok(Some(alert_id))
}

fn record_feed_tx(
    tx: &Transaction<'_>,
    url: &str,
    items: &[(String, String, Option<i64>)],
    validators: &Validators,
    newest_before: Option<i64>,
    now: &str,
) -> rusqlite::Result<(usize, bool)> {
    let mut new = 0;
    for (name, version, published) in items {
        let published = published
            .and_then(|p| jiff::Timestamp::from_second(p).ok())
            .map(|t| t.to_string());
        tx.execute(
            "INSERT OR IGNORE INTO crates (name, display_name, first_seen) VALUES (?1, ?2, ?3)",
            params![name.to_ascii_lowercase(), name, now],
        )?;
        new += tx.execute(
            "INSERT OR IGNORE INTO versions (name, version, published, first_seen, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![name.to_ascii_lowercase(), version, published, now],
        )?;
    }
    // Items without a `pubDate` take no part in the gap check.
    let oldest = items.iter().filter_map(|i| i.2).min();
    let newest = items.iter().filter_map(|i| i.2).max();
    let gap = matches!((newest_before, oldest), (Some(b), Some(o)) if o > b);
    if let (true, Some(b), Some(o)) = (gap, newest_before, oldest) {
        tx.execute(
            "INSERT INTO feed_gaps (url, seen_at, newest_before, oldest_now) VALUES (?1, ?2, ?3, ?4)",
            params![url, now, b, o],
        )?;
    }
    let newest_seen = match (newest_before, newest) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    tx.execute(
        "INSERT INTO feeds (url, etag, last_modified, newest_seen, last_polled) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
         newest_seen = excluded.newest_seen, last_polled = excluded.last_polled",
        params![url, validators.etag, validators.last_modified, newest_seen, now],
    )?;
    Ok((new, gap))
}
