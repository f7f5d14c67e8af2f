/**
 * Retries: UNAVAILABLE is tried again with backoff, other codes are not.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { ConnectError } from "@connectrpc/connect";
import { Code, NotFoundError, OvsrClient, RetryPolicy, RpcError } from "@ovsr/client";
import { SchemaService } from "@ovsr/client/v1";

import {
  CallRecorder,
  FakeRegistry,
  freePort,
  Registry,
  registryForFile,
  sleep,
  TRANSPORTS,
  uniqueNamespace,
} from "./support.js";

const shared = registryForFile();

for (const transport of TRANSPORTS) {
  describe(`retries over ${transport}`, () => {
    test("unavailable is retried until the server comes up", async () => {
      const address = `127.0.0.1:${await freePort()}`;
      const recorder = new CallRecorder();
      const retry = new RetryPolicy({
        maxAttempts: 100,
        initialBackoffMs: 50,
        maxBackoffMs: 200,
      });
      let late: Registry | undefined;
      const starter = sleep(500).then(() => {
        late = new Registry(address, join(shared.scratch, `late-${transport}`));
      });
      const client = new OvsrClient(address, {
        transport,
        retry,
        timeoutMs: 60_000,
        interceptors: [recorder.interceptor],
      });
      let page;
      try {
        page = await client.listSchemas();
      } finally {
        client.close();
        await starter;
        await late?.stop();
      }

      assert.deepEqual(page.schemas, []);
      const attempts = recorder.attempts("ListSchemas");
      assert.ok(attempts.length > 1, `only ${attempts.length} attempt`);
      assert.ok(attempts.slice(0, -1).every((attempt) => attempt.code === Code.Unavailable));
      assert.equal(attempts.at(-1)?.code, "OK");
    });

    test("not found is thrown without a retry", async () => {
      const recorder = new CallRecorder();
      const client = new OvsrClient(shared.registry.baseUrl, {
        transport,
        interceptors: [recorder.interceptor],
      });
      try {
        await assert.rejects(
          client.get(uniqueNamespace(), "missing"),
          (error: unknown) => error instanceof NotFoundError && error.code === Code.NotFound,
        );
      } finally {
        client.close();
      }

      assert.equal(recorder.attempts("GetSchema").length, 1);
      assert.equal(client.cacheStats.misses, 1);
    });
  });
}

describe("backoff", () => {
  let fake: FakeRegistry;
  const attemptTimes: number[] = [];

  before(async () => {
    // Answers every ListSchemas UNAVAILABLE, noting when each attempt came.
    fake = await FakeRegistry.start((router) => {
      router.service(SchemaService, {
        listSchemas() {
          attemptTimes.push(performance.now());
          throw new ConnectError("draining", Code.Unavailable);
        },
      });
    });
  });

  after(() => fake.stop());

  test("retries back off exponentially and stop at maxAttempts", async () => {
    attemptTimes.length = 0;
    const retry = new RetryPolicy({
      maxAttempts: 4,
      initialBackoffMs: 100,
      multiplier: 2,
      jitter: 0,
    });
    const client = new OvsrClient(fake.urlFor("grpc"), { retry });
    try {
      await assert.rejects(
        client.listSchemas(),
        (error: unknown) =>
          error instanceof RpcError &&
          error.code === Code.Unavailable &&
          error.message === "ListSchemas: UNAVAILABLE: draining",
      );
    } finally {
      client.close();
    }

    assert.equal(attemptTimes.length, 4);
    const gaps = attemptTimes.slice(1).map((time, index) => time - (attemptTimes[index] ?? 0));
    for (const [index, backoff] of [100, 200, 400].entries()) {
      const gap = gaps[index] ?? 0;
      assert.ok(gap >= backoff - 5 && gap < backoff + 1000, `gap ${gap} for ${backoff}`);
    }
  });

  test("retries stop at the deadline", async () => {
    attemptTimes.length = 0;
    const retry = new RetryPolicy({ maxAttempts: 50, initialBackoffMs: 200, jitter: 0 });
    const started = performance.now();
    const client = new OvsrClient(fake.urlFor("grpc"), { retry, timeoutMs: 500 });
    try {
      await assert.rejects(client.listSchemas(), RpcError);
    } finally {
      client.close();
    }

    assert.ok(performance.now() - started < 1500);
    assert.ok(attemptTimes.length >= 2 && attemptTimes.length <= 3, `${attemptTimes.length}`);
  });
});
