-- 001: the watch database (crate-provenance watch, db import, report --db).
-- Applied in one transaction by src/watch/db.rs, which records it in `schema_version`.
-- Times are RFC 3339 UTC strings; crate names are stored lowercase in `name` (the index's key)
-- with the spelling the index uses in `crates.display_name`.

CREATE TABLE crates (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    -- 1 once the first index poll recorded the crate's history (its versions before watching).
    initialized INTEGER NOT NULL DEFAULT 0,
    -- The validators of the last index answer (conditional polls), stored in the same
    -- transaction as the versions that answer listed.
    etag TEXT,
    last_modified TEXT,
    -- The last index answer that changed something (a 304, or an unchanged body, writes nothing).
    last_polled TEXT
);

CREATE TABLE versions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    checksum TEXT,
    published TEXT,
    first_seen TEXT NOT NULL,
    yanked INTEGER NOT NULL DEFAULT 0,
    -- pending: to verify; verified: has a verification; history: published before watching.
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'history')),
    PRIMARY KEY (name, version)
);

-- Every verification, kept: a later verdict never replaces an earlier one.
CREATE TABLE verifications (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    -- NULL when the verification failed (then `error_kind` is set).
    verdict TEXT,
    error_kind TEXT,
    -- The results line: the JSON report of docs/VERDICTS.md, or the error object.
    report TEXT NOT NULL,
    -- watch | import
    origin TEXT NOT NULL
);
CREATE INDEX verifications_by_version ON verifications (name, version, id);

-- A version's verdict changes over time (e.g. repository_not_found, then match once the
-- repository appears): one row per verification whose verdict differs from the one before.
CREATE VIEW verdict_changes AS
SELECT * FROM (
    SELECT name, version, id, verified_at,
           LAG(COALESCE(verdict, 'error')) OVER (PARTITION BY name, version ORDER BY id) AS previous,
           COALESCE(verdict, 'error') AS current
    FROM verifications
) WHERE previous IS NOT NULL AND previous <> current;

CREATE TABLE yank_events (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    yanked INTEGER NOT NULL,
    seen_at TEXT NOT NULL
);

-- One alert per verification whose verdict the policy denies; written in the transaction
-- that records the verification.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    verification_id INTEGER NOT NULL UNIQUE REFERENCES verifications (id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    verdict TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);

-- The outbox: one row per alert and target (`stdout`, or a webhook URL), written with the
-- alert, marked delivered after the delivery succeeded.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    target TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (alert_id, target)
);

CREATE TABLE feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    -- Unix seconds of the newest item seen so far.
    newest_seen INTEGER,
    last_polled TEXT
);

-- A poll whose oldest item is newer than the newest item seen before: publishes in between
-- may have been missed.
CREATE TABLE feed_gaps (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    newest_before INTEGER NOT NULL,
    oldest_now INTEGER NOT NULL
);

-- One row per poll cycle.
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    crates INTEGER NOT NULL,
    not_modified INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    new_versions INTEGER NOT NULL
);
