/**
 * What the client and its calls take: options, output formats, orders.
 *
 * @module
 */

import type { Interceptor, Transport } from "@connectrpc/connect";

import type { CacheOptions, SchemaCache } from "./cache.js";
import { SearchSort } from "./gen/ovsr/v1/search_pb.js";
import { OutputFormat as OutputFormatMessage } from "./gen/ovsr/v1/validation_pb.js";
import type { RetryOptions, RetryPolicy } from "./retry.js";
import type { TransportKind } from "./transport.js";

/**
 * How much detail validation results carry: `flag` is `valid` alone,
 * `basic` adds the list of errors.
 */
export type OutputFormat = "flag" | "basic";

/** The order of search hits. */
export type SearchOrder = "relevance" | "recency" | "popularity";

/** How a client connects and behaves. */
export interface OvsrClientOptions {
  /**
   * `grpc` (HTTP/2, Node only), `grpc-web` (fetch; browsers and Node), or a
   * Connect transport built by the caller. Defaults to `grpc` in Node and
   * `grpc-web` in browsers. Over `grpc-web`, `validateStream` is refused.
   */
  readonly transport?: TransportKind | Transport;
  /** Sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string;
  /**
   * The deadline of each unary call in milliseconds, retries included;
   * `null` for none. 10,000.
   */
  readonly timeoutMs?: number | null;
  /** When UNAVAILABLE calls are tried again. */
  readonly retry?: RetryPolicy | RetryOptions;
  /** `null` for no cache, options for a new cache, or a cache to use. */
  readonly cache?: CacheOptions | SchemaCache | null;
  /**
   * Connect interceptors run on every call, first to last. Not with a
   * custom `transport`, which carries its own.
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * The most documents sent ahead of their results, over all the
   * validation streams of this client. The server stops reading a stream
   * whose results are not taken, and its HTTP/2 layer closes a connection
   * that holds too many small frames unread (GOAWAY, ENHANCE_YOUR_CALM), so
   * an unbounded sender of small documents would lose the connection; 64
   * stays well within that limit and still keeps the server's result
   * batches full.
   */
  readonly streamWindow?: number;
}

/** Paging and filters of `OvsrClient.listSchemas`. */
export interface ListSchemasOptions {
  /** Only this namespace; unset lists every namespace. */
  readonly namespace?: string;
  /** Items per page, 1-1000; 0 or unset means 100. */
  readonly pageSize?: number;
  /** The `nextPageToken` of the previous page. */
  readonly pageToken?: string;
  /** Also list schemas whose versions are all deleted. */
  readonly includeDeleted?: boolean;
}

/** Filters, order and paging of `OvsrClient.search`. */
export interface SearchOptions {
  /** Only these namespaces (any of them). */
  readonly namespaces?: readonly string[];
  /** Only schemas carrying all of these tags. */
  readonly tags?: readonly string[];
  /** Only these dialects (any of them). */
  readonly dialects?: readonly string[];
  readonly includeDeprecated?: boolean;
  readonly includeDeleted?: boolean;
  /** `relevance` unless set. */
  readonly sort?: SearchOrder;
  /** Hits per page, 1-100; 0 or unset means 20. */
  readonly pageSize?: number;
  /** The `nextPageToken` of the previous page. */
  readonly pageToken?: string;
}

/** What `OvsrClient.validate` checks against, and how it answers. */
export interface ValidateOptions {
  /** The version to validate against; unset is the latest. */
  readonly version?: number;
  /** `basic` unless set. */
  readonly outputFormat?: OutputFormat;
  /** Treat `format` as an assertion (reject "x" as an `email`). */
  readonly assertFormats?: boolean;
}

/** The schema of a validation stream, and how it answers. */
export interface ValidateStreamOptions extends ValidateOptions {
  readonly namespace: string;
  readonly name: string;
  /** Bounds the whole stream in milliseconds; unset for no deadline. */
  readonly timeoutMs?: number;
}

/** Tags, aliases and dialect of a registration. */
export interface RegisterOptions {
  readonly tags?: readonly string[];
  /** Other URLs the schema is known by; `$ref`s to them resolve to it. */
  readonly aliases?: readonly string[];
  /** The dialect assumed when the document has no `$schema`. */
  readonly dialect?: string;
}

/** The ovsr.v1 value of each output format. */
export const OUTPUT_FORMATS: Readonly<Record<OutputFormat, OutputFormatMessage>> = {
  flag: OutputFormatMessage.FLAG,
  basic: OutputFormatMessage.BASIC,
};

/** The ovsr.v1 value of each search order. */
export const SEARCH_ORDERS: Readonly<Record<SearchOrder, SearchSort>> = {
  relevance: SearchSort.RELEVANCE,
  recency: SearchSort.RECENCY,
  popularity: SearchSort.POPULARITY,
};
