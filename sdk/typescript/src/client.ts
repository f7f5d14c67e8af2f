/**
 * The client of an OVSR registry.
 *
 * @module
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, createClient } from "@connectrpc/connect";

import { type CacheOptions, type CacheStats, noCacheStats, SchemaCache } from "./cache.js";
import { verifyDigest } from "./digest.js";
import { OvsrError, rpcErrorFrom } from "./errors.js";
import {
  type GetSchemaResponse,
  type SchemaSelectorSchema,
  type SchemaVersion,
  SchemaService,
} from "./gen/ovsr/v1/schema_pb.js";
import { SearchService } from "./gen/ovsr/v1/search_pb.js";
import {
  type ValidateStreamRequestSchema,
  ValidationService,
} from "./gen/ovsr/v1/validation_pb.js";
import {
  type Registration,
  Schema,
  type SchemaPage,
  type SearchPage,
  type StreamResult,
  type ValidationResult,
  schemaFromProto,
  searchPageFromProto,
  streamResultFromProto,
  summaryFromProto,
  validationResultFromProto,
} from "./models.js";
import {
  type ListSchemasOptions,
  OUTPUT_FORMATS,
  type OvsrClientOptions,
  type RegisterOptions,
  SEARCH_ORDERS,
  type SearchOptions,
  type ValidateOptions,
  type ValidateStreamOptions,
} from "./options.js";
import { RetryPolicy, callWithRetries } from "./retry.js";
import { StreamPermits, StreamWindow } from "./streamWindow.js";
import { type OpenTransport, type TransportKind, openTransport } from "./transport.js";

/** What a `SchemaSelector` selects, as Connect takes it. */
type SelectorTarget = NonNullable<MessageInitShape<typeof SchemaSelectorSchema>["target"]>;

/** One message of a validation stream, as Connect takes it. */
type StreamRequest = MessageInitShape<typeof ValidateStreamRequestSchema>;

/** The oneof of a stream message: its opening, or a document. */
type StreamMessage = NonNullable<StreamRequest["message"]>;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STREAM_WINDOW = 64;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A connection to an OVSR registry, with a local cache of schemas.
 *
 * Documents and schema contents are JSON: a `string` is taken as JSON text
 * as it is, a `Uint8Array` as UTF-8 JSON text, anything else is encoded
 * with `JSON.stringify` (so to send the JSON string "x", pass `'"x"'`).
 * Every schema received is checked against its digest.
 */
export class OvsrClient {
  readonly #transport: OpenTransport;
  readonly #schemas: Client<typeof SchemaService>;
  readonly #validation: Client<typeof ValidationService>;
  readonly #search: Client<typeof SearchService>;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number | undefined;
  readonly #retry: RetryPolicy;
  readonly #cache: SchemaCache | undefined;
  readonly #streamWindow: StreamWindow;
  readonly #closing = new AbortController();

  /**
   * Connects (lazily) to `baseUrl`, such as `http://localhost:8080`; a bare
   * `host:port` means plain HTTP.
   */
  constructor(baseUrl: string, options: OvsrClientOptions = {}) {
    const url = baseUrl.includes("://") ? baseUrl : `http://${baseUrl}`;
    this.#streamWindow = new StreamWindow(options.streamWindow ?? DEFAULT_STREAM_WINDOW);
    const settings = { baseUrl: url, interceptors: options.interceptors ?? [] };
    this.#transport = openTransport(options.transport, settings);
    this.#schemas = createClient(SchemaService, this.#transport.transport);
    this.#validation = createClient(ValidationService, this.#transport.transport);
    this.#search = createClient(SearchService, this.#transport.transport);
    const token = options.token;
    this.#headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : options.timeoutMs;
    if (timeoutMs !== null && !(timeoutMs > 0)) {
      throw new RangeError("timeoutMs must be above 0, or null for no deadline");
    }
    this.#timeoutMs = timeoutMs ?? undefined;
    const retry = options.retry ?? {};
    this.#retry = retry instanceof RetryPolicy ? retry : new RetryPolicy(retry);
    this.#cache = openCache(options.cache === undefined ? {} : options.cache);
  }

  /** Which transport the client talks over. */
  get transportKind(): TransportKind | "custom" {
    return this.#transport.kind;
  }

  /** What the cache did so far (all zero without a cache). */
  get cacheStats(): CacheStats {
    return this.#cache?.stats ?? noCacheStats();
  }

  /** Closes the connection; calls and streams in flight are cancelled. */
  close(): void {
    this.#closing.abort(new OvsrError("the client was closed"));
    this.#transport.close();
  }

  /**
   * Fetches one version of a schema; no `version` is the latest.
   *
   * A pinned version is served from the cache once held. The latest is
   * served from the cache for the cache's TTL, then revalidated. Throws
   * `NotFoundError`, `DigestMismatchError`, or `RpcError`.
   */
  async get(namespace: string, name: string, version?: number): Promise<Schema> {
    if (version === undefined) {
      return this.#getLatest(namespace, name);
    }
    if (!Number.isInteger(version) || version < 1) {
      throw new RangeError("version must be an integer of at least 1 (omit it for the latest)");
    }
    return this.#getPinned(namespace, name, version);
  }

  /**
   * Fetches content by its digest, `sha256:<64 hex digits>`.
   *
   * The result names one version holding that content. Throws
   * `NotFoundError`, `DigestMismatchError`, or `RpcError`.
   */
  async getByDigest(digest: string): Promise<Schema> {
    const cached = await this.#cache?.byDigest(digest);
    if (cached !== undefined) {
      return cached;
    }
    const selector: SelectorTarget = { case: "digest", value: digest };
    const response = await this.#getSchema(selector, "");
    const schema = await verified(response.schemaVersion);
    if (schema.digest !== digest) {
      throw new OvsrError(`asked for ${digest}, the registry answered ${schema.digest}`);
    }
    await this.#cache?.store(schema, { latest: false });
    return schema;
  }

  /** Lists schemas ordered by namespace then name, one page at a time. */
  async listSchemas(options: ListSchemasOptions = {}): Promise<SchemaPage> {
    const request = {
      namespace: options.namespace ?? "",
      pageSize: options.pageSize ?? 0,
      pageToken: options.pageToken ?? "",
      includeDeleted: options.includeDeleted ?? false,
    };
    const response = await this.#unary("ListSchemas", (call) =>
      this.#schemas.listSchemas(request, call),
    );
    const schemas = response.schemas.map(summaryFromProto);
    return { schemas, nextPageToken: response.nextPageToken };
  }

  /**
   * Full-text search over names, titles, descriptions, tags and properties.
   *
   * Filters combine: `tags` must all be present; `namespaces` and
   * `dialects` accept any listed value.
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchPage> {
    const request = {
      query,
      namespaces: [...(options.namespaces ?? [])],
      tags: [...(options.tags ?? [])],
      dialects: [...(options.dialects ?? [])],
      includeDeprecated: options.includeDeprecated ?? false,
      includeDeleted: options.includeDeleted ?? false,
      sort: SEARCH_ORDERS[options.sort ?? "relevance"],
      pageSize: options.pageSize ?? 0,
      pageToken: options.pageToken ?? "",
    };
    const response = await this.#unary("Search", (call) => this.#search.search(request, call));
    return searchPageFromProto(response);
  }

  /**
   * Validates one document against a schema version (the latest unless
   * `version` is set).
   *
   * An invalid document is a result with `valid` false, not an error.
   * Throws `NotFoundError` for an unknown schema, `RpcError` with
   * INVALID_ARGUMENT for a document that is not JSON.
   */
  async validate(
    namespace: string,
    name: string,
    document: unknown,
    options: ValidateOptions = {},
  ): Promise<ValidationResult> {
    const request = {
      schema: { target: versionTarget(namespace, name, options.version) },
      document: jsonText(document),
      outputFormat: OUTPUT_FORMATS[options.outputFormat ?? "basic"],
      assertFormats: options.assertFormats ?? false,
    };
    const response = await this.#unary("Validate", (call) =>
      this.#validation.validate(request, call),
    );
    return validationResultFromProto(response.result);
  }

  /**
   * Validates a stream of documents, yielding one result per document.
   *
   * Results come in input order; `sequence` is the document's position
   * from 0. A document that cannot be validated yields a result with
   * `error` set and the stream goes on. Documents are read as the server
   * takes them, so a long input is never held in memory; stopping the
   * iteration early ends the stream.
   *
   * Needs a transport with client streaming: over `grpc-web` it throws
   * `OvsrError` at once (fetch cannot stream a request body); use
   * `validate` per document there. The stream is not retried, since its
   * input cannot be replayed.
   */
  validateStream(
    documents: AsyncIterable<unknown> | Iterable<unknown>,
    options: ValidateStreamOptions,
  ): AsyncIterable<StreamResult> {
    if (this.#transport.kind === "grpc-web") {
      throw new OvsrError(
        "validateStream needs the grpc transport (HTTP/2): gRPC-Web cannot stream " +
          "documents to the registry; call validate per document instead",
      );
    }
    const target = versionTarget(options.namespace, options.name, options.version);
    const open: StreamMessage = {
      case: "open",
      value: {
        defaultSchema: { target },
        outputFormat: OUTPUT_FORMATS[options.outputFormat ?? "basic"],
        assertFormats: options.assertFormats ?? false,
      },
    };
    return this.#streamResults(documents, open, options.timeoutMs);
  }

  /**
   * Registers a new version of a schema, creating the schema if new.
   *
   * Content identical to a live version returns that version with
   * `created` false. Throws `RpcError` with INVALID_ARGUMENT for a bad name
   * or document, ALREADY_EXISTS for an alias held by another schema.
   */
  async register(
    namespace: string,
    name: string,
    content: unknown,
    options: RegisterOptions = {},
  ): Promise<Registration> {
    const request = {
      namespace,
      name,
      content: jsonText(content),
      tags: [...(options.tags ?? [])],
      aliases: [...(options.aliases ?? [])],
      dialect: options.dialect ?? "",
    };
    const response = await this.#unary("RegisterSchema", (call) =>
      this.#schemas.registerSchema(request, call),
    );
    const schema = await verified(response.schemaVersion);
    if (this.#cache !== undefined) {
      await this.#cache.store(schema, { latest: false });
      // This client reads its own writes: the next latest is fetched.
      this.#cache.forgetLatest(namespace, name);
    }
    return { schema, created: response.created };
  }

  async #getPinned(namespace: string, name: string, version: number): Promise<Schema> {
    const cached = await this.#cache?.pinned(namespace, name, version);
    if (cached !== undefined) {
      return cached;
    }
    const response = await this.#getSchema(versionTarget(namespace, name, version), "");
    const schema = await verified(response.schemaVersion);
    await this.#cache?.store(schema, { latest: false });
    return schema;
  }

  async #getLatest(namespace: string, name: string): Promise<Schema> {
    const cache = this.#cache;
    const entry = cache?.latest(namespace, name);
    if (entry?.fresh === true) {
      return entry.schema;
    }
    const held = entry?.schema.digest ?? "";
    const response = await this.#getSchema(versionTarget(namespace, name, undefined), held);
    if (response.notModified) {
      if (entry === undefined || cache === undefined) {
        throw new OvsrError(`${namespace}/${name}: not-modified answer to a plain read`);
      }
      const schema = refreshedLatest(entry.schema, response.schemaVersion);
      cache.refreshLatest(schema);
      return schema;
    }
    const schema = await verified(response.schemaVersion);
    await cache?.store(schema, { latest: true });
    return schema;
  }

  #getSchema(target: SelectorTarget, ifNoneMatch: string): Promise<GetSchemaResponse> {
    const request = { schema: { target }, ifNoneMatch };
    return this.#unary("GetSchema", (call) => this.#schemas.getSchema(request, call));
  }

  #unary<T>(method: string, call: (options: CallOptions) => Promise<T>): Promise<T> {
    const signal = this.#closing.signal;
    const attempt = (timeoutMs: number | undefined): Promise<T> =>
      call(this.#callOptions(signal, timeoutMs));
    const settings = { method, policy: this.#retry, timeoutMs: this.#timeoutMs, signal };
    return callWithRetries(attempt, settings);
  }

  #callOptions(signal: AbortSignal, timeoutMs: number | undefined): CallOptions {
    const options: CallOptions = { headers: this.#headers, signal };
    if (timeoutMs !== undefined) {
      // Connect takes whole milliseconds; a sub-millisecond rest still counts.
      options.timeoutMs = Math.max(1, Math.ceil(timeoutMs));
    }
    return options;
  }

  async *#streamResults(
    documents: AsyncIterable<unknown> | Iterable<unknown>,
    open: StreamMessage,
    timeoutMs: number | undefined,
  ): AsyncGenerator<StreamResult> {
    const permits = new StreamPermits(this.#streamWindow);
    const stream = new AbortController();
    const closing = this.#closing.signal;
    const cancel = (): void => stream.abort(closing.reason);
    closing.addEventListener("abort", cancel, { once: true });
    if (closing.aborted) {
      cancel();
    }
    let sent = 0;
    // An input that fails is the caller's error, not the stream's: it is
    // thrown in place of the cancellation it causes.
    let inputFailure: { error: unknown } | undefined;

    async function* requests(): AsyncGenerator<StreamRequest> {
      yield { message: open };
      try {
        for await (const document of documents) {
          const text = jsonText(document);
          if (!(await permits.acquire())) {
            return;
          }
          const sequence = BigInt(sent);
          sent += 1;
          yield { message: { case: "document", value: { sequence, document: text } } };
        }
      } catch (error) {
        inputFailure = { error };
        stream.abort(error);
        throw error;
      }
    }

    const options = this.#callOptions(stream.signal, timeoutMs);
    let received = 0;
    try {
      const responses = this.#validation.validateStream(requests(), options);
      for await (const response of responses) {
        if (response.sequence !== BigInt(received)) {
          throw new OvsrError(
            `validation stream out of order: result ${response.sequence} ` +
              `where ${received} was due`,
          );
        }
        permits.releaseOne();
        received += 1;
        yield streamResultFromProto(response);
      }
    } catch (error) {
      if (inputFailure !== undefined) {
        throw inputFailure.error;
      }
      throw error instanceof OvsrError ? error : rpcErrorFrom(error, "ValidateStream");
    } finally {
      // A caller that stops reading early ends the stream.
      permits.close();
      stream.abort();
      closing.removeEventListener("abort", cancel);
    }
    if (received !== sent) {
      throw new OvsrError(`validation stream ended after ${received} of ${sent} results`);
    }
  }
}

function openCache(cache: CacheOptions | SchemaCache | null): SchemaCache | undefined {
  if (cache === null) {
    return undefined;
  }
  return cache instanceof SchemaCache ? cache : new SchemaCache(cache);
}

function versionTarget(
  namespace: string,
  name: string,
  version: number | undefined,
): SelectorTarget {
  return { case: "versionRef", value: { namespace, name, version: version ?? 0 } };
}

async function verified(message: SchemaVersion | undefined): Promise<Schema> {
  if (message === undefined) {
    throw new OvsrError("the registry answered with no schema version");
  }
  const schema = schemaFromProto(message);
  await verifyDigest(schema.label, schema.content, schema.digest);
  return schema;
}

/**
 * The held `latest`, with the metadata of a not-modified answer: a
 * deprecation shows, and the content is the one whose digest the server
 * just matched.
 */
function refreshedLatest(held: Schema, answer: SchemaVersion | undefined): Schema {
  if (answer === undefined || answer.version === 0) {
    return held;
  }
  const current = schemaFromProto(answer);
  return new Schema({ ...current, content: held.content });
}

function jsonText(document: unknown): string {
  if (typeof document === "string") {
    return document;
  }
  if (document instanceof Uint8Array) {
    return utf8.decode(document);
  }
  const text: string | undefined = JSON.stringify(document);
  if (text === undefined) {
    throw new TypeError("the document has no JSON form (undefined, a function or a symbol)");
  }
  return text;
}
