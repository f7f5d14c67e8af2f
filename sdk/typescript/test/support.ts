/**
 * What the tests share: a real `ovsr serve` to talk to, fake registries for
 * answers a real one never gives, and ways to observe calls.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";

import { type ConnectRouter, ConnectError, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Code, TransportKind } from "@ovsr/client";

/** The SDK's directory: the tests run from build/test inside it. */
export const SDK_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Both transports, for tests that run over each. */
export const TRANSPORTS: readonly TransportKind[] = ["grpc", "grpc-web"];

const LISTENING = /listening addr=(\S+)/;
const MEMORY_READS = /^ovsr_cache_(?:hits|misses)_total\{layer="memory"\} (\S+)$/gm;

/** The server binary the tests run: `OVSR_BIN`, or the debug build. */
export function ovsrBinary(): string {
  const binary = resolve(SDK_ROOT, process.env["OVSR_BIN"] ?? "../../target/debug/ovsr");
  if (!existsSync(binary)) {
    throw new Error(
      `no ovsr binary at ${binary}: build it with ` +
        "`cargo build -p ovsr-server --bin ovsr` or set OVSR_BIN",
    );
  }
  return binary;
}

/** A fresh temporary directory, removed by `removeScratch`. */
export function scratchDir(prefix = "ovsr-sdk-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a directory made by `scratchDir`. */
export function removeScratch(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
}

/** The registry a test file shares, and the scratch directory it lives in. */
export interface SharedRegistry {
  readonly registry: Registry;
  readonly scratch: string;
}

/**
 * Starts a registry before the calling file's tests and stops it, removing its
 * scratch directory, after them. Read its fields inside the tests, once started.
 */
export function registryForFile(): SharedRegistry {
  const shared = {} as { registry: Registry; scratch: string };
  before(async () => {
    shared.scratch = scratchDir();
    shared.registry = await Registry.start(join(shared.scratch, "registry"));
  });
  after(async () => {
    await shared.registry.stop();
    removeScratch(shared.scratch);
  });
  return shared;
}

/** One `ovsr serve` process with its own data directory. */
export class Registry {
  readonly logPath: string;
  readonly #process: ChildProcess;
  readonly #exited: Promise<void>;
  address = "";

  /** Starts `ovsr serve` on `listen` (a free port when it ends in `:0`). */
  constructor(listen: string, dataDir: string) {
    this.logPath = `${dataDir}.log`;
    const log = openSync(this.logPath, "w");
    const args = ["serve", "--listen", listen, "--data-dir", dataDir, "--shutdown-grace", "1s"];
    this.#process = spawn(ovsrBinary(), args, {
      stdio: ["ignore", log, log],
      env: { ...process.env, NO_COLOR: "1", RUST_LOG: "info" },
    });
    closeSync(log);
    this.#exited = new Promise((done) => this.#process.once("exit", () => done()));
    // A test process that dies must not leave its server behind.
    const kill = (): void => {
      this.#process.kill("SIGKILL");
    };
    process.once("exit", kill);
    void this.#exited.then(() => process.off("exit", kill));
  }

  /** Starts a registry on a free loopback port and waits until it listens. */
  static async start(dataDir: string): Promise<Registry> {
    const registry = new Registry("127.0.0.1:0", dataDir);
    await registry.waitUntilListening();
    return registry;
  }

  /** `http://` and the bound address. */
  get baseUrl(): string {
    return `http://${this.address}`;
  }

  /** Waits for the "listening" log line; returns the bound address. */
  async waitUntilListening(timeoutMs = 60_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const match = LISTENING.exec(readFileSync(this.logPath, "utf8"));
      if (match?.[1] !== undefined) {
        this.address = match[1];
        return this.address;
      }
      if (this.#process.exitCode !== null) {
        break;
      }
      await sleep(50);
    }
    await this.stop();
    const log = readFileSync(this.logPath, "utf8").slice(-4000);
    throw new Error(`ovsr did not start; its log:\n${log}`);
  }

  /** Memory-layer hits plus misses: moves on every GetSchema served. */
  async memoryCacheReads(): Promise<number> {
    const answer = await fetch(`${this.baseUrl}/metrics`);
    const text = await answer.text();
    const values = [...text.matchAll(MEMORY_READS)].map((match) => Number(match[1]));
    if (values.length !== 2) {
      throw new Error("metrics lack the memory cache counters");
    }
    return values.reduce((sum, value) => sum + value, 0);
  }

  /** Stops the process, gracefully first. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) {
      return;
    }
    this.#process.kill("SIGTERM");
    const kill = setTimeout(() => this.#process.kill("SIGKILL"), 15_000);
    await this.#exited;
    clearTimeout(kill);
  }
}

/** A namespace no other test uses. */
export function uniqueNamespace(): string {
  return `t-${randomBytes(6).toString("hex")}`;
}

/** A loopback port free at the time of the call. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** A clock for the cache that moves only when told. */
export class ManualClock {
  now = 1_000_000;

  /** The cache's clock function. */
  readonly read = (): number => this.now;

  /** Moves the clock forward. */
  advance(ms: number): void {
    this.now += ms;
  }
}

/** One attempt of a unary call, as the client's transport saw it. */
export interface RecordedCall {
  readonly method: string;
  readonly request: unknown;
  readonly response: unknown;
  readonly code: Code | "OK";
}

/** Records every unary attempt a client makes, with its outcome. */
export class CallRecorder {
  readonly calls: RecordedCall[] = [];

  /** The interceptor to give the client. */
  readonly interceptor: Interceptor = (next) => async (request) => {
    const method = request.method.name;
    try {
      const response = await next(request);
      const message = response.stream ? undefined : response.message;
      this.calls.push({ method, request: request.message, response: message, code: "OK" });
      return response;
    } catch (error) {
      const { code } = ConnectError.from(error);
      this.calls.push({ method, request: request.message, response: undefined, code });
      throw error;
    }
  };

  /** The recorded attempts of one method, named like `GetSchema`. */
  attempts(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }
}

/**
 * A registry of the test's making: Connect handlers served over HTTP/2 for
 * the grpc transport and over HTTP/1.1 for grpc-web.
 */
export class FakeRegistry {
  readonly #http2: http2.Http2Server;
  readonly #http1: http.Server;

  private constructor(routes: (router: ConnectRouter) => void) {
    const handler = connectNodeAdapter({ routes });
    this.#http2 = http2.createServer(handler);
    this.#http1 = http.createServer(handler);
  }

  /** Serves `routes` on two free loopback ports. */
  static async start(routes: (router: ConnectRouter) => void): Promise<FakeRegistry> {
    const fake = new FakeRegistry(routes);
    await Promise.all([listen(fake.#http2), listen(fake.#http1)]);
    return fake;
  }

  /** The URL to reach it over `transport`. */
  urlFor(transport: TransportKind): string {
    const server = transport === "grpc" ? this.#http2 : this.#http1;
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Stops both listeners, dropping open connections. */
  async stop(): Promise<void> {
    this.#http1.closeAllConnections();
    await Promise.all([close(this.#http2), close(this.#http1)]);
  }
}

function listen(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done()));
}

function close(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}
