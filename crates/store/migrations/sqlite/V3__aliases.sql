-- Aliases, and what each version was registered with: its aliases and its reference
-- locks.
--
-- An alias is another URL a schema is known by (say the address it was published at
-- before), scoped to its namespace: the same URL may name different schemas in
-- different namespaces. Keyed by namespace first, like every table.

CREATE TABLE schema_aliases (
    namespace     TEXT    NOT NULL,
    alias         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (namespace, alias),
    FOREIGN KEY (namespace, name) REFERENCES schemas (namespace, name)
) WITHOUT ROWID;

-- JSON array of the aliases given when the version was registered.
ALTER TABLE schema_versions ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
-- JSON object: every URL the version refers to outside itself, to the digest it
-- resolved to at registration.
ALTER TABLE schema_versions ADD COLUMN reference_locks TEXT NOT NULL DEFAULT '{}';
