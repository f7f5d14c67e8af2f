/**
 * The local cache against a live registry: what reaches the server, and when.
 */

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import {
  CorruptCacheFileError,
  type OvsrError,
  OvsrClient,
  Schema,
  SchemaCache,
  type TransportKind,
  computeDigest,
} from "@ovsr/client";
import type { GetSchemaRequest, GetSchemaResponse } from "@ovsr/client/v1";

import {
  CallRecorder,
  ManualClock,
  registryForFile,
  removeScratch,
  scratchDir,
  TRANSPORTS,
  uniqueNamespace,
} from "./support.js";

const TTL_MS = 30_000;

const shared = registryForFile();

function orderSchema(revision: number): object {
  return { type: "object", required: ["id"], title: `Order rev ${revision}` };
}

interface CachedClientOptions {
  transport?: TransportKind;
  directory?: string;
  recorder?: CallRecorder;
  warnings?: OvsrError[];
}

function cachedClient(clock: ManualClock, options: CachedClientOptions = {}): OvsrClient {
  const warnings = options.warnings ?? [];
  const cache = new SchemaCache(
    {
      latestTtlMs: TTL_MS,
      directory: options.directory,
      onWarning: (warning) => warnings.push(warning),
    },
    clock.read,
  );
  return new OvsrClient(shared.registry.baseUrl, {
    transport: options.transport ?? "grpc",
    cache,
    interceptors: options.recorder === undefined ? [] : [options.recorder.interceptor],
  });
}

/** Registers through a client of its own, as another writer would. */
async function register(namespace: string, name: string, content: object): Promise<Schema> {
  const writer = new OvsrClient(shared.registry.baseUrl, { cache: null });
  try {
    return (await writer.register(namespace, name, content)).schema;
  } finally {
    writer.close();
  }
}

for (const transport of TRANSPORTS) {
  describe(`cache over ${transport}`, () => {
    test("second read of a pinned version sends no request", async () => {
      const namespace = uniqueNamespace();
      await register(namespace, "order", orderSchema(1));
      const client = cachedClient(new ManualClock(), { transport });
      try {
        const first = await client.get(namespace, "order", 1);
        const readsBefore = await shared.registry.memoryCacheReads();

        const second = await client.get(namespace, "order", 1);
        const byDigest = await client.getByDigest(first.digest);

        assert.equal(await shared.registry.memoryCacheReads(), readsBefore);
        assert.deepEqual(second, first);
        assert.equal(byDigest.content, first.content);
        assert.equal(client.cacheStats.hits, 2);
        assert.equal(client.cacheStats.misses, 1);
      } finally {
        client.close();
      }
    });

    test("latest past its TTL is revalidated and answered not-modified", async () => {
      const namespace = uniqueNamespace();
      await register(namespace, "order", orderSchema(1));
      const clock = new ManualClock();
      const recorder = new CallRecorder();
      const client = cachedClient(clock, { transport, recorder });
      let first: Schema;
      let withinTtl: Schema;
      let revalidated: Schema;
      let revalidationCost: number;
      try {
        first = await client.get(namespace, "order");
        const readsBefore = await shared.registry.memoryCacheReads();
        withinTtl = await client.get(namespace, "order");
        assert.equal(await shared.registry.memoryCacheReads(), readsBefore);

        clock.advance(TTL_MS + 1);
        revalidated = await client.get(namespace, "order");
        revalidationCost = (await shared.registry.memoryCacheReads()) - readsBefore;
      } finally {
        client.close();
      }

      // One plain read of latest, for what a single GetSchema moves the counters by.
      const plain = new OvsrClient(shared.registry.baseUrl, { transport, cache: null });
      const readsBefore = await shared.registry.memoryCacheReads();
      await plain.get(namespace, "order");
      const oneRead = (await shared.registry.memoryCacheReads()) - readsBefore;
      plain.close();

      assert.deepEqual(withinTtl, first);
      assert.equal(revalidated.digest, first.digest);
      assert.equal(revalidated.content, first.content);
      const stats = client.cacheStats;
      assert.deepEqual([stats.revalidations, stats.notModified], [1, 1]);
      assert.equal(oneRead, 2);
      assert.equal(revalidationCost, oneRead);
      const reads = recorder.attempts("GetSchema");
      assert.equal(reads.length, 2);
      const request = reads[1]?.request as GetSchemaRequest;
      const response = reads[1]?.response as GetSchemaResponse;
      assert.equal(request.ifNoneMatch, first.digest);
      assert.equal(response.notModified, true);
      assert.equal(response.schemaVersion?.content, "");
    });

    test("latest past its TTL returns a newly registered version", async () => {
      const namespace = uniqueNamespace();
      await register(namespace, "order", orderSchema(1));
      const clock = new ManualClock();
      const client = cachedClient(clock, { transport });
      try {
        const first = await client.get(namespace, "order");
        const secondVersion = await register(namespace, "order", orderSchema(2));

        const stillCached = await client.get(namespace, "order");
        clock.advance(TTL_MS + 1);
        const refreshed = await client.get(namespace, "order");
        const readsBefore = await shared.registry.memoryCacheReads();
        const pinnedNew = await client.get(namespace, "order", 2);

        assert.equal(await shared.registry.memoryCacheReads(), readsBefore);
        assert.deepEqual([first.version, stillCached.version, refreshed.version], [1, 1, 2]);
        assert.equal(refreshed.digest, secondVersion.digest);
        assert.deepEqual(refreshed.document(), orderSchema(2));
        assert.deepEqual(pinnedNew, refreshed);
        assert.equal(client.cacheStats.revalidations, 1);
        assert.equal(client.cacheStats.notModified, 0);
      } finally {
        client.close();
      }
    });
  });
}

describe("cache directory", () => {
  test("persisted cache serves a new client without requests", async (context) => {
    const namespace = uniqueNamespace();
    const directory = scratchDir("ovsr-cache-");
    context.after(() => removeScratch(directory));
    await register(namespace, "order", orderSchema(1));
    const client = cachedClient(new ManualClock(), { directory });
    const fetched = await client.get(namespace, "order", 1);
    client.close();

    const readsBefore = await shared.registry.memoryCacheReads();
    const restarted = cachedClient(new ManualClock(), { directory });
    try {
      const pinned = await restarted.get(namespace, "order", 1);
      const byDigest = await restarted.getByDigest(fetched.digest);

      assert.equal(await shared.registry.memoryCacheReads(), readsBefore);
      assert.deepEqual(pinned, fetched);
      assert.equal(byDigest.content, fetched.content);
      assert.equal(restarted.cacheStats.diskHits, 2);
      assert.equal(restarted.cacheStats.misses, 0);
    } finally {
      restarted.close();
    }
  });

  test("tampered cache file is rejected, removed and refetched", async (context) => {
    const namespace = uniqueNamespace();
    const directory = scratchDir("ovsr-cache-");
    context.after(() => removeScratch(directory));
    await register(namespace, "order", orderSchema(1));
    const client = cachedClient(new ManualClock(), { directory });
    const fetched = await client.get(namespace, "order", 1);
    client.close();
    const blob = join(directory, "sha256", `${fetched.digest.slice("sha256:".length)}.json`);
    const record = JSON.parse(readFileSync(blob, "utf8")) as { content: string };
    record.content = record.content.replace('"object"', '"string"');
    writeFileSync(blob, JSON.stringify(record));

    const readsBefore = await shared.registry.memoryCacheReads();
    const warnings: OvsrError[] = [];
    const restarted = cachedClient(new ManualClock(), { directory, warnings });
    let refetched: Schema;
    try {
      refetched = await restarted.get(namespace, "order", 1);
    } finally {
      restarted.close();
    }

    assert.equal(restarted.cacheStats.rejectedFiles, 1);
    assert.ok((await shared.registry.memoryCacheReads()) > readsBefore);
    assert.equal(refetched.content, fetched.content);
    assert.equal(warnings.length, 1);
    const warning = warnings[0];
    assert.ok(warning instanceof CorruptCacheFileError);
    assert.equal(warning.path, blob);
    assert.match(warning.message, /rejected/);
    assert.ok(warning.message.includes(fetched.digest));
    // The refetch wrote the file again, this time with the true content.
    const rewritten = JSON.parse(readFileSync(blob, "utf8")) as { content: string };
    assert.equal(rewritten.content, fetched.content);
  });

  test("cache file that is not a record is rejected", async (context) => {
    const directory = scratchDir("ovsr-cache-");
    context.after(() => removeScratch(directory));
    const digest = await computeDigest('{"type":"object"}');
    const blob = join(directory, "sha256", `${digest.slice("sha256:".length)}.json`);
    mkdirSync(join(directory, "sha256"));
    writeFileSync(blob, Buffer.from([0, 0x67, 0x61, 0x72, 0x62, 0x61, 0x67, 0x65]));
    const warnings: OvsrError[] = [];
    const cache = new SchemaCache({ directory, onWarning: (warning) => warnings.push(warning) });

    assert.equal(await cache.byDigest(digest), undefined);
    assert.equal(cache.stats.rejectedFiles, 1);
    assert.equal(existsSync(blob), false);
    assert.equal(warnings.length, 1);
  });
});

describe("memory cache", () => {
  test("evicts the least recently used entry within its bounds", async () => {
    const cache = new SchemaCache({ maxEntries: 4 });
    const schemas = await Promise.all([1, 2, 3].map(exampleSchema));
    for (const schema of schemas) {
      // Each version is held by digest and by number: two entries.
      await cache.store(schema, { latest: false });
    }

    assert.equal(await cache.pinned("acme", "order", 1), undefined);
    assert.equal(await cache.pinned("acme", "order", 3), schemas[2]);
    assert.equal(await cache.byDigest(schemas[1]?.digest ?? ""), schemas[1]);
    assert.equal(cache.stats.evictions, 2);
  });

  test("never holds more than maxBytes", async () => {
    const small = await exampleSchema(1);
    const cache = new SchemaCache({ maxBytes: 3 * small.content.length });
    for (let version = 1; version < 10; version += 1) {
      await cache.store(await exampleSchema(version), { latest: false });
    }

    // 11 bytes an entry, two entries a version: the newest three entries stay.
    const held: number[] = [];
    for (let version = 1; version < 10; version += 1) {
      if ((await cache.pinned("acme", "order", version)) !== undefined) {
        held.push(version);
      }
    }
    assert.deepEqual(held, [8, 9]);
    assert.notEqual(await cache.byDigest((await exampleSchema(9)).digest), undefined);
    assert.equal(await cache.byDigest((await exampleSchema(8)).digest), undefined);
  });
});

async function exampleSchema(version: number): Promise<Schema> {
  const content = JSON.stringify({ const: version });
  const digest = await computeDigest(content);
  return new Schema({ namespace: "acme", name: "order", version, digest, content });
}
