-- Schemas, their immutable versions, and the outbox of changes: the same logical
-- schema as the SQLite store.
--
-- Every primary key starts with namespace, so Citus can distribute the tables by it and
-- keep one namespace's rows on one node. Names are compared bytewise (COLLATE "C"):
-- listings order as in SQLite, and keyset cursors never depend on the server's locale.

CREATE TABLE schemas (
    namespace      text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    -- Highest version number ever allocated; numbers are never reused. Registering
    -- locks this row and bumps it, so numbering is per schema with no global counter.
    max_version    bigint NOT NULL,
    -- Highest version that is not deleted; 0 when every version is deleted.
    latest_version bigint NOT NULL,
    created_at_ms  bigint NOT NULL,
    updated_at_ms  bigint NOT NULL,
    PRIMARY KEY (namespace, name)
);

CREATE TABLE schema_versions (
    namespace     text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    version       bigint NOT NULL,
    digest        text COLLATE "C" NOT NULL,
    state         text   NOT NULL CHECK (state IN ('active', 'deprecated', 'deleted')),
    content       text   NOT NULL,
    title         text,
    description   text,
    dialect       text   NOT NULL,
    tags          text[] NOT NULL DEFAULT '{}',
    created_at_ms bigint NOT NULL,
    -- Also the B-tree for lookups by (namespace, name, version).
    PRIMARY KEY (namespace, name, version),
    FOREIGN KEY (namespace, name) REFERENCES schemas (namespace, name)
);

-- Identical content registers once per schema while a version holding it is live.
CREATE UNIQUE INDEX schema_versions_live_digest
    ON schema_versions (namespace, name, digest)
    WHERE state <> 'deleted';

-- Lookups by digest across schemas, earliest registration first.
CREATE INDEX schema_versions_digest ON schema_versions (digest, created_at_ms);

-- Discovery by tag (`tags @> ARRAY['x']`).
CREATE INDEX schema_versions_tags ON schema_versions USING gin (tags);

CREATE TABLE outbox (
    namespace        text COLLATE "C" NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    name             text COLLATE "C" NOT NULL,
    version          bigint NOT NULL,
    kind             text   NOT NULL CHECK (kind IN ('registered', 'deprecated', 'deleted')),
    created_at_ms    bigint NOT NULL,
    -- A claim's consumer and the end of its lease; other consumers skip the row until
    -- the lease runs out. Completed changes are deleted.
    claimed_by       text,
    claimed_until_ms bigint,
    PRIMARY KEY (namespace, id)
);

-- Consumers claim across namespaces in id order.
CREATE INDEX outbox_id ON outbox (id);
