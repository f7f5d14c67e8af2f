/**
 * Digests: the SDK's canonical form against the registry's, and tampered answers.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import type { Interceptor } from "@connectrpc/connect";
import {
  DigestMismatchError,
  OvsrClient,
  canonicalJson,
  computeDigest,
  verifyDigest,
} from "@ovsr/client";
import { SchemaService } from "@ovsr/client/v1";

import { FakeRegistry, registryForFile, TRANSPORTS, uniqueNamespace } from "./support.js";

// Each text is sent as written: numbers with exponents and trailing zeros,
// integers past 2^53, escapes, characters outside the BMP, and keys whose
// order differs between UTF-16 code units (what RFC 8785 sorts by) and code
// points.
const TRICKY_SCHEMAS = [
  '{"const": 1.0, "default": 1e21, "examples": [1e-7, -0.0, 0.1, 100, 1.5e+3]}',
  '{"examples": [9007199254740993, 123456789012345678901234567890, 1e300, 5e-324]}',
  String.raw`{"const": "caf\u00e9 \ud83d\ude00 ` +
    "\u2028" +
    String.raw` \" \\ \/ \u0000\u001f ` +
    "\u00e9\u0301" +
    '"}',
  '{"properties": {"\ufb01": {"type": "string"}, "\u{1f600}": {"type": "number"},' +
    ' "b": {"properties": {"z": {}, "a": {"type": "null"}}}, "a": {}, "A": {}}}',
  '{"type":"object","required":["id"],"properties":{"id":{"type":"integer",' +
    '"minimum":0E0,"maximum":4.50E2}},"additionalProperties":false}',
];

const shared = registryForFile();

describe("canonical form", () => {
  for (const [index, text] of TRICKY_SCHEMAS.entries()) {
    test(`local digest matches the registry's for tricky schema ${index}`, async () => {
      const namespace = uniqueNamespace();
      const client = new OvsrClient(shared.registry.baseUrl, { cache: null });
      try {
        const registered = await client.register(namespace, "tricky", text);
        const fetched = await client.getByDigest(registered.schema.digest);

        assert.equal(await computeDigest(text), registered.schema.digest);
        assert.equal(canonicalJson(text), fetched.content);
      } finally {
        client.close();
      }
    });
  }

  test("canonical form sorts keys by UTF-16 code units", () => {
    // U+1F600 is D83D DE00 in UTF-16, below U+FB01: code points sort the other way.
    const text = '{"\ufb01": 1, "\u{1f600}": 2, "b": 3, "a": 4, "A": 5}';
    assert.equal(canonicalJson(text), '{"A":5,"a":4,"b":3,"\u{1f600}":2,"\ufb01":1}');
  });

  test("canonicalJson rejects what is not JSON", () => {
    for (const text of ["NaN", '{"a": Infinity}', "[1e400]", "{", "", '"\\ud800"']) {
      assert.throws(() => canonicalJson(text), SyntaxError, text);
    }
  });

  test("verifyDigest names content that is not JSON", async () => {
    await assert.rejects(
      verifyDigest("acme/order@1", "{", await computeDigest("{}")),
      (error: unknown) =>
        error instanceof DigestMismatchError && /not valid JSON/.test(error.message),
    );
  });
});

describe("tampered answers", () => {
  let fake: FakeRegistry;
  let calls = 0;
  const authorization: string[] = [];
  let expected: string;
  let actual: string;

  before(async () => {
    expected = await computeDigest('{"type":"object"}');
    actual = await computeDigest('{"type":"string"}');
    // Serves GetSchema alone, with content that is not what its digest says.
    fake = await FakeRegistry.start((router) => {
      router.service(SchemaService, {
        getSchema(_request, context) {
          calls += 1;
          authorization.push(context.requestHeader.get("authorization") ?? "");
          const schemaVersion = {
            namespace: "acme",
            name: "order",
            version: 3,
            digest: expected,
            content: '{"type":"string"}',
          };
          return { schemaVersion };
        },
      });
    });
  });

  after(() => fake.stop());

  for (const transport of TRANSPORTS) {
    test(`content not matching its digest throws and is not cached, over ${transport}`, async () => {
      calls = 0;
      authorization.length = 0;
      const client = new OvsrClient(fake.urlFor(transport), { transport, token: "s3cret" });
      let raised: unknown;
      try {
        await client.get("acme", "order", 3).catch((error: unknown) => {
          raised = error;
        });
        await assert.rejects(client.get("acme", "order", 3), DigestMismatchError);
      } finally {
        client.close();
      }

      assert.ok(raised instanceof DigestMismatchError);
      assert.equal(raised.schema, "acme/order@3");
      assert.equal(raised.expected, expected);
      assert.equal(raised.actual, actual);
      assert.ok(raised.message.includes("acme/order@3") && raised.message.includes(expected));
      assert.equal(calls, 2);
      assert.deepEqual(authorization, ["Bearer s3cret", "Bearer s3cret"]);
      assert.equal(client.cacheStats.misses, 2);
    });
  }

  test("content altered on the way from the live shared.registry is caught", async () => {
    const namespace = uniqueNamespace();
    // Rewrites every schema the shared.registry sends, as a proxy between them could.
    const alter: Interceptor = (next) => async (request) => {
      const response = await next(request);
      if (!response.stream && request.method.name === "GetSchema") {
        const message = response.message as { schemaVersion?: { content: string } };
        if (message.schemaVersion !== undefined) {
          message.schemaVersion.content = '{"type":"string"}';
        }
      }
      return response;
    };
    const writer = new OvsrClient(shared.registry.baseUrl, { cache: null });
    const registered = await writer.register(namespace, "order", { type: "object" });
    writer.close();
    const client = new OvsrClient(shared.registry.baseUrl, {
      transport: "grpc-web",
      interceptors: [alter],
    });
    try {
      await assert.rejects(
        client.get(namespace, "order"),
        (error: unknown) =>
          error instanceof DigestMismatchError &&
          error.expected === registered.schema.digest &&
          error.actual === actual &&
          error.schema === `${namespace}/order@1`,
      );
    } finally {
      client.close();
    }
  });
});
