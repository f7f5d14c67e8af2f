-- Schemas, their immutable versions, and the outbox of changes.
--
-- Every table is keyed by namespace first, so a distributed store can shard by it.

CREATE TABLE schemas (
    namespace      TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    -- Highest version number ever allocated; numbers are never reused.
    max_version    INTEGER NOT NULL,
    -- Highest version that is not deleted; 0 when every version is deleted.
    latest_version INTEGER NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (namespace, name)
) WITHOUT ROWID;

CREATE TABLE schema_versions (
    namespace     TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    digest        TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('active', 'deprecated', 'deleted')),
    content       TEXT    NOT NULL,
    title         TEXT,
    description   TEXT,
    dialect       TEXT    NOT NULL,
    -- JSON array of strings.
    tags          TEXT    NOT NULL DEFAULT '[]',
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (namespace, name, version),
    FOREIGN KEY (namespace, name) REFERENCES schemas (namespace, name)
);

-- Identical content registers once per schema while a version holding it is live.
CREATE UNIQUE INDEX schema_versions_live_digest
    ON schema_versions (namespace, name, digest)
    WHERE state <> 'deleted';

-- Lookups by digest across schemas.
CREATE INDEX schema_versions_digest ON schema_versions (digest);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace     TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('registered', 'deprecated', 'deleted')),
    created_at_ms INTEGER NOT NULL
);
