/**
 * The client's local cache of schema versions.
 *
 * A version's content never changes, so entries reached by digest or by a
 * pinned version number are kept without expiry, in memory in a bounded LRU
 * and, when a directory is given (Node only), on disk. `latest` is a moving
 * pointer: it is served from memory for `latestTtlMs`, then revalidated with
 * `if_none_match`, which costs a not-modified answer with no body while the
 * schema is unchanged.
 *
 * @module
 */

import { openDiskStore } from "#platform";

import { CorruptCacheFileError, OvsrError } from "./errors.js";
import type { Schema } from "./models.js";

/** Counts of what the cache did since it was created. */
export interface CacheStats {
  /** Reads answered locally, with no request (memory or disk). */
  hits: number;
  /** Reads the cache could not answer: fetched from the server in full. */
  misses: number;
  /** `latest` pointers past their TTL, checked with the server. */
  revalidations: number;
  /** Revalidations the server answered not-modified, with no body. */
  notModified: number;
  /** Hits served from the cache directory (also counted in `hits`). */
  diskHits: number;
  /** Entries dropped from memory to stay within the bounds. */
  evictions: number;
  /** Cache files that failed verification when loaded, and were removed. */
  rejectedFiles: number;
}

/** How much the cache holds and where it persists. */
/** Statistics of a cache that has done nothing yet. */
export function noCacheStats(): CacheStats {
  return {
    hits: 0,
    misses: 0,
    revalidations: 0,
    notModified: 0,
    diskHits: 0,
    evictions: 0,
    rejectedFiles: 0,
  };
}

export interface CacheOptions {
  /**
   * Bound on the content bytes (UTF-8) held in memory, summed over entries
   * (an entry reached by several keys counts once per key). 64 MiB.
   */
  readonly maxBytes?: number;
  /** Bound on the number of entries held in memory. 10,000. */
  readonly maxEntries?: number;
  /** Milliseconds a `latest` answer is served before it is revalidated. 30 s. */
  readonly latestTtlMs?: number;
  /**
   * Directory that keeps immutable entries across restarts (Node only;
   * `~` is the home directory). Unset keeps them in memory only.
   */
  readonly directory?: string | undefined;
  /**
   * Told of what the cache handled but a person may want to know: a cache
   * file rejected (`CorruptCacheFileError`), a directory it cannot write.
   * Prints with `console.warn` by default.
   */
  readonly onWarning?: (warning: OvsrError) => void;
}

/** A cached `latest` answer and whether it is still within its TTL. */
export interface LatestEntry {
  readonly schema: Schema;
  readonly fresh: boolean;
}

/**
 * Where immutable entries persist: one file per digest and one per pinned
 * version. Loads verify content against its digest and throw
 * `CorruptCacheFileError`, the file removed, when it does not match.
 */
export interface DiskStore {
  loadDigest(digest: string): Promise<Schema | undefined>;
  loadVersion(namespace: string, name: string, version: number): Promise<Schema | undefined>;
  /** Writes what is not on disk yet; rejects when the directory cannot be written. */
  save(schema: Schema): Promise<void>;
}

interface Entry {
  readonly schema: Schema;
  readonly size: number;
  readonly fetchedAt: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_LATEST_TTL_MS = 30_000;

/**
 * Bounded LRU of schema versions, optionally persisted to a directory.
 *
 * One cache belongs to one client; `clock` (milliseconds, monotonic) is
 * there for tests to move time.
 */
export class SchemaCache {
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #latestTtlMs: number;
  readonly #clock: () => number;
  readonly #onWarning: (warning: OvsrError) => void;
  readonly #disk: DiskStore | undefined;
  // A Map iterates in insertion order: re-inserting on use keeps the least
  // recently used entry first.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  readonly #stats: CacheStats = noCacheStats();

  constructor(options: CacheOptions = {}, clock: () => number = () => performance.now()) {
    this.#maxBytes = positive(options.maxBytes ?? DEFAULT_MAX_BYTES, "maxBytes");
    this.#maxEntries = positive(options.maxEntries ?? DEFAULT_MAX_ENTRIES, "maxEntries");
    this.#latestTtlMs = options.latestTtlMs ?? DEFAULT_LATEST_TTL_MS;
    this.#clock = clock;
    this.#onWarning = options.onWarning ?? ((warning) => console.warn(warning.message));
    const { directory } = options;
    this.#disk = directory === undefined ? undefined : openDiskStore(directory);
  }

  /** A snapshot of the counters. */
  get stats(): CacheStats {
    return { ...this.#stats };
  }

  /** The cached version `namespace/name@version`, counting a hit or a miss. */
  async pinned(namespace: string, name: string, version: number): Promise<Schema | undefined> {
    const key = versionKey(namespace, name, version);
    let schema = this.#memoryGet(key);
    const disk = this.#disk;
    if (schema === undefined && disk !== undefined) {
      schema = await this.#diskLoad(() => disk.loadVersion(namespace, name, version));
      if (schema !== undefined) {
        this.#remember(key, schema);
      }
    }
    this.#count(schema);
    return schema;
  }

  /** The cached content with this digest, counting a hit or a miss. */
  async byDigest(digest: string): Promise<Schema | undefined> {
    const key = digestKey(digest);
    let schema = this.#memoryGet(key);
    const disk = this.#disk;
    if (schema === undefined && disk !== undefined) {
      schema = await this.#diskLoad(() => disk.loadDigest(digest));
      if (schema !== undefined) {
        this.#remember(key, schema);
      }
    }
    this.#count(schema);
    return schema;
  }

  /**
   * The cached `latest` of a schema, if any.
   *
   * Counts a hit when it is fresh, a revalidation when it is stale (the
   * caller is about to check it with the server), and a miss when absent.
   */
  latest(namespace: string, name: string): LatestEntry | undefined {
    const key = latestKey(namespace, name);
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#stats.misses += 1;
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const fresh = this.#clock() - entry.fetchedAt < this.#latestTtlMs;
    if (fresh) {
      this.#stats.hits += 1;
    } else {
      this.#stats.revalidations += 1;
    }
    return { schema: entry.schema, fresh };
  }

  /**
   * Keeps a version fetched from the server, its digest checked.
   *
   * `latest` also records it as the schema's latest, fresh from now. A
   * directory that cannot be written is reported to `onWarning`; the entry
   * is still served from memory.
   */
  async store(schema: Schema, options: { latest: boolean }): Promise<void> {
    this.#remember(digestKey(schema.digest), schema);
    this.#remember(versionKey(schema.namespace, schema.name, schema.version), schema);
    if (options.latest) {
      this.#remember(latestKey(schema.namespace, schema.name), schema);
    }
    if (this.#disk === undefined) {
      return;
    }
    try {
      await this.#disk.save(schema);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#onWarning(new OvsrError(`cache directory not writable: ${reason}`, { cause: error }));
    }
  }

  /**
   * Keeps a `latest` the server answered not-modified, fresh from now.
   *
   * `schema` is the held content with the metadata of the answer.
   */
  refreshLatest(schema: Schema): void {
    this.#stats.notModified += 1;
    this.#remember(latestKey(schema.namespace, schema.name), schema);
  }

  /** Drops the cached `latest` of a schema, so the next read fetches it. */
  forgetLatest(namespace: string, name: string): void {
    const key = latestKey(namespace, name);
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= entry.size;
    }
  }

  #memoryGet(key: string): Schema | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.schema;
  }

  async #diskLoad(load: () => Promise<Schema | undefined>): Promise<Schema | undefined> {
    let schema: Schema | undefined;
    try {
      schema = await load();
    } catch (error) {
      if (!(error instanceof CorruptCacheFileError)) {
        throw error;
      }
      this.#stats.rejectedFiles += 1;
      this.#onWarning(error);
      return undefined;
    }
    if (schema !== undefined) {
      this.#stats.diskHits += 1;
    }
    return schema;
  }

  #count(schema: Schema | undefined): void {
    if (schema === undefined) {
      this.#stats.misses += 1;
    } else {
      this.#stats.hits += 1;
    }
  }

  #remember(key: string, schema: Schema): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.size;
    }
    const size = utf8Length(schema.content);
    if (size > this.#maxBytes) {
      return;
    }
    this.#entries.set(key, { schema, size, fetchedAt: this.#clock() });
    this.#bytes += size;
    while (this.#bytes > this.#maxBytes || this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.entries().next();
      if (oldest.done === true) {
        break;
      }
      const [oldestKey, evicted] = oldest.value;
      this.#entries.delete(oldestKey);
      this.#bytes -= evicted.size;
      this.#stats.evictions += 1;
    }
  }
}

// NUL never occurs in a namespace, a name or a digest, so keys cannot collide.
function digestKey(digest: string): string {
  return `digest\0${digest}`;
}

function versionKey(namespace: string, name: string, version: number): string {
  return `version\0${namespace}\0${name}\0${version}`;
}

function latestKey(namespace: string, name: string): string {
  return `latest\0${namespace}\0${name}`;
}

function positive(value: number, field: string): number {
  if (!(value >= 1)) {
    throw new RangeError(`${field} must be at least 1`);
  }
  return value;
}

/** The UTF-8 length of a string, without encoding it. */
function utf8Length(text: string): number {
  let length = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) {
      length += 1;
    } else if (unit < 0x800) {
      length += 2;
    } else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      // A surrogate pair is one code point of four bytes.
      length += 4;
      index += 1;
    } else {
      length += 3;
    }
  }
  return length;
}
