/**
 * Validation, one document and long streams, against a live registry.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Code, OvsrClient, OvsrError, type StreamResult } from "@ovsr/client";

import { registryForFile, TRANSPORTS, uniqueNamespace } from "./support.js";

const ORDER = { type: "object", required: ["id"], properties: { id: { type: "integer" } } };
const STREAM_LENGTH = 10_000;

type Outcome = "valid" | "invalid" | "error";

function expectedOutcome(index: number): Outcome {
  if (index % 1000 === 7) {
    return "error";
  }
  return index % 3 === 0 ? "invalid" : "valid";
}

function* streamDocuments(): Generator<unknown> {
  for (let index = 0; index < STREAM_LENGTH; index += 1) {
    const outcome = expectedOutcome(index);
    if (outcome === "error") {
      yield "{not json";
    } else if (outcome === "invalid") {
      yield { id: `not a number ${index}` };
    } else {
      yield { id: index };
    }
  }
}

function outcomeOf(result: StreamResult): Outcome {
  if (result.error !== undefined) {
    return "error";
  }
  return result.valid ? "valid" : "invalid";
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) {
    collected.push(item);
  }
  return collected;
}

const shared = registryForFile();

for (const transport of TRANSPORTS) {
  test(`validate reports valid and invalid documents, over ${transport}`, async () => {
    const namespace = uniqueNamespace();
    const client = new OvsrClient(shared.registry.baseUrl, { transport });
    try {
      const registered = await client.register(namespace, "order", ORDER);
      const valid = await client.validate(namespace, "order", { id: 1 });
      const invalid = await client.validate(namespace, "order", '{"id": "x"}', { version: 1 });
      const flag = await client.validate(namespace, "order", {}, { outputFormat: "flag" });
      const bytes = new TextEncoder().encode('{"id": 2}');
      const fromBytes = await client.validate(namespace, "order", bytes);

      assert.equal(valid.valid, true);
      assert.deepEqual(valid.errors, []);
      assert.equal(valid.schemaDigest, registered.schema.digest);
      assert.equal(invalid.valid, false);
      assert.deepEqual(
        invalid.errors.map((error) => error.instanceLocation),
        ["/id"],
      );
      assert.equal(flag.valid, false);
      assert.deepEqual(flag.errors, []);
      assert.equal(fromBytes.valid, true);
    } finally {
      client.close();
    }
  });
}

describe("validation stream", () => {
  test("stream of ten thousand documents returns every result in order", async () => {
    const namespace = uniqueNamespace();
    const client = new OvsrClient(shared.registry.baseUrl);
    let results: StreamResult[];
    try {
      await client.register(namespace, "order", ORDER);
      const stream = client.validateStream(streamDocuments(), {
        namespace,
        name: "order",
        timeoutMs: 300_000,
      });
      results = await collect(stream);
    } finally {
      client.close();
    }

    assert.equal(results.length, STREAM_LENGTH);
    assert.ok(results.every((result, index) => result.sequence === index));
    const outcomes = results.map(outcomeOf);
    const expected = Array.from({ length: STREAM_LENGTH }, (_, index) => expectedOutcome(index));
    assert.deepEqual(outcomes, expected);
    const errors = results.flatMap((result) => (result.error === undefined ? [] : [result.error]));
    assert.equal(errors.length, 10);
    assert.ok(errors.every((error) => error.code === Code.InvalidArgument));
  });

  test("stream reads an async iterable and pinned versions", async () => {
    const namespace = uniqueNamespace();
    async function* documents(): AsyncGenerator<unknown> {
      for (const value of ["a", 1, null]) {
        yield { id: value };
      }
    }
    const client = new OvsrClient(shared.registry.baseUrl);
    try {
      await client.register(namespace, "order", ORDER);
      await client.register(namespace, "order", { type: "object" });
      const pinned = await collect(
        client.validateStream(documents(), { namespace, name: "order", version: 1 }),
      );
      const latest = await collect(
        client.validateStream(documents(), { namespace, name: "order" }),
      );

      assert.deepEqual(
        pinned.map((result) => result.valid),
        [false, true, false],
      );
      assert.deepEqual(
        latest.map((result) => result.valid),
        [true, true, true],
      );
    } finally {
      client.close();
    }
  });

  test("stream against an unknown schema fails each document", async () => {
    const client = new OvsrClient(shared.registry.baseUrl);
    try {
      const stream = client.validateStream(["{}", "{}"], {
        namespace: uniqueNamespace(),
        name: "missing",
      });
      const results = await collect(stream);

      assert.deepEqual(
        results.map((result) => result.sequence),
        [0, 1],
      );
      assert.ok(results.every((result) => result.error?.code === Code.NotFound));
    } finally {
      client.close();
    }
  });

  test("stream keeps at most streamWindow documents ahead of their results", async () => {
    const namespace = uniqueNamespace();
    const window = 8;
    let pulled = 0;
    let widestLead = 0;
    function* documents(): Generator<unknown> {
      for (let index = 0; index < 2_000; index += 1) {
        pulled += 1;
        yield { id: index };
      }
    }
    const client = new OvsrClient(shared.registry.baseUrl, { streamWindow: window });
    try {
      await client.register(namespace, "order", ORDER);
      let received = 0;
      for await (const result of client.validateStream(documents(), { namespace, name: "order" })) {
        received += 1;
        assert.equal(result.valid, true);
        widestLead = Math.max(widestLead, pulled - received);
      }
      assert.equal(received, 2_000);
    } finally {
      client.close();
    }

    // One more document may be read, waiting for a slot, than the window sends.
    assert.ok(widestLead <= window + 1, `${widestLead} documents ahead`);
    assert.ok(widestLead >= window - 1, `the window was never filled: ${widestLead}`);
  });

  test("a stream left early gives its window back to the next", async () => {
    const namespace = uniqueNamespace();
    const client = new OvsrClient(shared.registry.baseUrl, { streamWindow: 4 });
    try {
      await client.register(namespace, "order", ORDER);
      function* endless(): Generator<unknown> {
        for (let index = 0; ; index += 1) {
          yield { id: index };
        }
      }
      let taken = 0;
      for await (const result of client.validateStream(endless(), { namespace, name: "order" })) {
        assert.equal(result.sequence, taken);
        taken += 1;
        if (taken === 10) {
          break;
        }
      }
      const next = await collect(
        client.validateStream(
          Array.from({ length: 20 }, (_, id) => ({ id })),
          {
            namespace,
            name: "order",
          },
        ),
      );

      assert.equal(taken, 10);
      assert.equal(next.length, 20);
    } finally {
      client.close();
    }
  });

  test("a failing input is thrown as the caller's error", async () => {
    const namespace = uniqueNamespace();
    const failure = new Error("input broke");
    async function* documents(): AsyncGenerator<unknown> {
      yield { id: 1 };
      throw failure;
    }
    const client = new OvsrClient(shared.registry.baseUrl);
    try {
      await client.register(namespace, "order", ORDER);
      await assert.rejects(
        collect(client.validateStream(documents(), { namespace, name: "order" })),
        (error: unknown) => error === failure,
      );
    } finally {
      client.close();
    }
  });

  test("stream over grpc-web is refused with a clear error", () => {
    const client = new OvsrClient(shared.registry.baseUrl, { transport: "grpc-web" });
    try {
      assert.throws(
        () => client.validateStream(["{}"], { namespace: "acme", name: "order" }),
        (error: unknown) =>
          error instanceof OvsrError && /needs the grpc transport/.test(error.message),
      );
    } finally {
      client.close();
    }
  });
});
