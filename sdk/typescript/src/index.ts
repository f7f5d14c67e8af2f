/**
 * TypeScript client of OVSR, the open schema registry.
 *
 * `OvsrClient` talks to a registry over gRPC (HTTP/2, in Node) or gRPC-Web
 * (browsers and Node), verifies every schema it receives against its
 * digest, and keeps a local cache of versions.
 *
 * @module
 */

export { Code } from "@connectrpc/connect";

export {
  type CacheOptions,
  type CacheStats,
  type DiskStore,
  type LatestEntry,
  SchemaCache,
} from "./cache.js";
export { OvsrClient } from "./client.js";
export { canonicalJson, computeDigest, verifyDigest } from "./digest.js";
export {
  CorruptCacheFileError,
  DigestMismatchError,
  NotFoundError,
  OvsrError,
  RpcError,
  statusName,
} from "./errors.js";
export {
  type FacetCount,
  type Highlight,
  type ItemError,
  type Registration,
  Schema,
  type SchemaFields,
  type SchemaPage,
  type SchemaSummary,
  type SearchHit,
  type SearchPage,
  type StreamResult,
  type ValidationError,
  type ValidationResult,
  type VersionState,
} from "./models.js";
export type {
  ListSchemasOptions,
  OutputFormat,
  OvsrClientOptions,
  RegisterOptions,
  SearchOptions,
  SearchOrder,
  ValidateOptions,
  ValidateStreamOptions,
} from "./options.js";
export { RetryPolicy, type RetryOptions } from "./retry.js";
export type { TransportKind } from "./transport.js";
