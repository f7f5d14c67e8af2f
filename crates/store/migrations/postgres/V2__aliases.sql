-- Aliases, and what each version was registered with: its aliases and its reference
-- locks. The same logical schema as the SQLite store's V3.
--
-- An alias is another URL a schema is known by, scoped to its namespace: the same URL
-- may name different schemas in different namespaces. The key starts with namespace so
-- Citus keeps aliases on their schemas' node.

CREATE TABLE schema_aliases (
    namespace     text COLLATE "C" NOT NULL,
    alias         text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    created_at_ms bigint NOT NULL,
    PRIMARY KEY (namespace, alias),
    FOREIGN KEY (namespace, name) REFERENCES schemas (namespace, name)
);

-- Constant defaults: PostgreSQL 11+ adds these without rewriting the table, and rows
-- from before read as empty.
ALTER TABLE schema_versions
    -- The aliases given when the version was registered.
    ADD COLUMN aliases         text[] NOT NULL DEFAULT '{}',
    -- Every URL the version refers to outside itself, to the digest it resolved to at
    -- registration.
    ADD COLUMN reference_locks jsonb  NOT NULL DEFAULT '{}';
