/**
 * Registering, reading, listing and searching against a live registry, over
 * each transport.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Code, NotFoundError, OvsrClient, type SearchPage, RpcError } from "@ovsr/client";

import { registryForFile, sleep, TRANSPORTS, uniqueNamespace } from "./support.js";

const shared = registryForFile();

for (const transport of TRANSPORTS) {
  describe(`client over ${transport}`, () => {
    let client: OvsrClient;

    before(() => {
      client = new OvsrClient(shared.registry.baseUrl, { transport });
    });

    after(() => client.close());

    test("talks over the transport it was given", () => {
      assert.equal(client.transportKind, transport);
    });

    test("registering identical content returns the existing version", async () => {
      const namespace = uniqueNamespace();
      const first = await client.register(
        namespace,
        "order",
        { type: "object" },
        {
          tags: ["sales"],
        },
      );
      const again = await client.register(namespace, "order", '{ "type" : "object" }');

      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(first.schema.version, 1);
      assert.equal(again.schema.version, 1);
      assert.equal(again.schema.digest, first.schema.digest);
      assert.deepEqual(first.schema.tags, ["sales"]);
    });

    test("get returns a pinned version, the latest, and content by digest", async () => {
      const namespace = uniqueNamespace();
      const first = await client.register(namespace, "order", { title: "Order", type: "object" });
      const second = await client.register(namespace, "order", { type: "array" });

      const pinned = await client.get(namespace, "order", 1);
      const latest = await client.get(namespace, "order");
      const byDigest = await client.getByDigest(first.schema.digest);

      assert.equal(pinned.label, `${namespace}/order@1`);
      assert.equal(pinned.title, "Order");
      assert.equal(pinned.state, "active");
      assert.ok(pinned.createdAt instanceof Date);
      assert.equal(pinned.content, '{"title":"Order","type":"object"}');
      assert.equal(latest.version, 2);
      assert.equal(latest.digest, second.schema.digest);
      assert.deepEqual(latest.document(), { type: "array" });
      assert.equal(byDigest.content, pinned.content);
    });

    test("a missing schema is NotFoundError, a bad name is INVALID_ARGUMENT", async () => {
      await assert.rejects(
        client.get(uniqueNamespace(), "missing", 1),
        (error: unknown) =>
          error instanceof NotFoundError &&
          error.method === "GetSchema" &&
          error.message.startsWith("GetSchema: NOT_FOUND: "),
      );
      await assert.rejects(
        client.register("Not A Namespace", "order", { type: "object" }),
        (error: unknown) =>
          error instanceof RpcError &&
          error.code === Code.InvalidArgument &&
          /namespace/.test(error.details),
      );
    });

    test("own registration is seen by the next latest read", async () => {
      const namespace = uniqueNamespace();
      const own = new OvsrClient(shared.registry.baseUrl, {
        transport,
        cache: { latestTtlMs: 3_600_000 },
      });
      try {
        await own.register(namespace, "order", { type: "object" });
        const first = await own.get(namespace, "order");
        await own.register(namespace, "order", { type: "array" });
        const second = await own.get(namespace, "order");

        assert.deepEqual([first.version, second.version], [1, 2]);
        assert.deepEqual(second.document(), { type: "array" });
      } finally {
        own.close();
      }
    });

    test("listSchemas pages through a namespace", async () => {
      const namespace = uniqueNamespace();
      for (const name of ["c", "a", "b"]) {
        await client.register(namespace, name, { title: `schema ${name}` });
      }
      const first = await client.listSchemas({ namespace, pageSize: 2 });
      const second = await client.listSchemas({
        namespace,
        pageSize: 2,
        pageToken: first.nextPageToken,
      });

      assert.deepEqual(
        first.schemas.map((schema) => schema.name),
        ["a", "b"],
      );
      assert.deepEqual(
        second.schemas.map((schema) => schema.name),
        ["c"],
      );
      assert.equal(second.nextPageToken, "");
      const all = [...first.schemas, ...second.schemas];
      assert.ok(all.every((schema) => schema.latestVersion === 1));
      assert.equal(first.schemas[0]?.title, "schema a");
    });

    test("search finds a schema by its title", async () => {
      const namespace = uniqueNamespace();
      const registered = await client.register(namespace, "invoice", {
        title: "Quarterly invoice",
        type: "object",
      });
      // The index follows registrations asynchronously.
      let page: SearchPage = await client.search("quarterly", { namespaces: [namespace] });
      for (let tries = 0; page.hits.length === 0 && tries < 100; tries += 1) {
        await sleep(100);
        page = await client.search("quarterly", { namespaces: [namespace] });
      }

      assert.deepEqual(
        page.hits.map((hit) => [hit.name, hit.digest]),
        [["invoice", registered.schema.digest]],
      );
      assert.equal(page.estimatedTotalHits, 1);
      assert.deepEqual(page.facets["namespace"], [{ value: namespace, count: 1 }]);
      assert.ok(page.hits[0]?.highlights.some((highlight) => highlight.field === "title"));
    });
  });
}
