/**
 * The cache directory: immutable entries persisted across restarts.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { access, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

import type { DiskStore } from "../cache.js";
import { computeDigest } from "../digest.js";
import { CorruptCacheFileError } from "../errors.js";
import { Schema, type VersionState } from "../models.js";

const DIGEST = /^sha256:([0-9a-f]{64})$/;
// Namespaces and names are validated by the registry; a cache directory
// still never takes a path segment it did not check itself.
const PATH_SEGMENT = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const STATES: ReadonlySet<string> = new Set(["unspecified", "active", "deprecated", "deleted"]);

type CacheRecord = Record<string, unknown>;

/** The cache directory at `directory`, created on first write. */
export function openDiskStore(directory: string): DiskStore {
  return new NodeDiskStore(expandHome(directory));
}

/**
 * One file per digest holding the content, and one small file per pinned
 * version pointing at its digest.
 *
 * Files are written atomically (a temporary file renamed into place) and
 * content is re-verified against its digest every time it is loaded.
 */
// TODO: the directory is never pruned; it grows by a small file per digest and version read.
class NodeDiskStore implements DiskStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async loadDigest(digest: string): Promise<Schema | undefined> {
    const path = this.#digestPath(digest);
    if (path === undefined) {
      return undefined;
    }
    const record = await this.#read(path);
    if (record === undefined) {
      return undefined;
    }
    const content = record["content"];
    if (typeof content !== "string") {
      return this.#reject(path, "it holds no content");
    }
    let actual: string;
    try {
      actual = await computeDigest(content);
    } catch {
      return this.#reject(path, "its content is not JSON");
    }
    if (actual !== digest) {
      return this.#reject(path, `content hashes to ${actual}, not to ${digest} as its name says`);
    }
    // The name of the file is what was verified, not the digest inside.
    return this.#schemaFromRecord(path, { ...record, digest }, content);
  }

  async loadVersion(namespace: string, name: string, version: number): Promise<Schema | undefined> {
    const path = this.#versionPath(namespace, name, version);
    if (path === undefined) {
      return undefined;
    }
    const record = await this.#read(path);
    if (record === undefined) {
      return undefined;
    }
    const digest = record["digest"];
    if (typeof digest !== "string" || this.#digestPath(digest) === undefined) {
      return this.#reject(path, "it names no valid digest");
    }
    const stored = await this.loadDigest(digest);
    if (stored === undefined) {
      return undefined;
    }
    const schema = await this.#schemaFromRecord(path, record, stored.content);
    if (schema.label !== `${namespace}/${name}@${version}`) {
      return this.#reject(path, `it describes ${schema.label}`);
    }
    return schema;
  }

  async save(schema: Schema): Promise<void> {
    const digestPath = this.#digestPath(schema.digest);
    const versionPath = this.#versionPath(schema.namespace, schema.name, schema.version);
    if (digestPath === undefined || versionPath === undefined) {
      return;
    }
    if (!(await exists(digestPath))) {
      await writeAtomically(digestPath, recordOf(schema, true));
    }
    if (!(await exists(versionPath))) {
      await writeAtomically(versionPath, recordOf(schema, false));
    }
  }

  #digestPath(digest: string): string | undefined {
    const match = DIGEST.exec(digest);
    if (match === null) {
      return undefined;
    }
    return join(this.#root, "sha256", `${match[1]}.json`);
  }

  #versionPath(namespace: string, name: string, version: number): string | undefined {
    if (!PATH_SEGMENT.test(namespace) || !PATH_SEGMENT.test(name)) {
      return undefined;
    }
    if (!Number.isSafeInteger(version) || version < 1) {
      return undefined;
    }
    return join(this.#root, "versions", namespace, name, `${version}.json`);
  }

  /** The record in `path`; undefined when there is no such file. */
  async #read(path: string): Promise<CacheRecord | undefined> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if (isMissingFile(error)) {
        return undefined;
      }
      return this.#reject(path, `it is not readable (${describe(error)})`);
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      return this.#reject(path, `it is not a cache record (${describe(error)})`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      return this.#reject(path, "it is not a cache record");
    }
    return record as CacheRecord;
  }

  async #reject(path: string, reason: string): Promise<never> {
    try {
      await rm(path, { force: true });
    } catch (error) {
      throw new CorruptCacheFileError(path, reason, false, { cause: error });
    }
    throw new CorruptCacheFileError(path, reason);
  }

  async #schemaFromRecord(path: string, record: CacheRecord, content: string): Promise<Schema> {
    try {
      return schemaFromRecord(record, content);
    } catch (error) {
      if (!(error instanceof MalformedRecord)) {
        throw error;
      }
      return this.#reject(path, `it is not a cache record (${error.message})`);
    }
  }
}

/** A record field missing or of the wrong type. */
class MalformedRecord extends Error {}

function schemaFromRecord(record: CacheRecord, content: string): Schema {
  const createdAt = field(record, "created_at", isDateText, null);
  return new Schema({
    namespace: field(record, "namespace", isString),
    name: field(record, "name", isString),
    version: field(record, "version", isVersion),
    digest: field(record, "digest", isString),
    content,
    state: field(record, "state", isState, "active"),
    title: field(record, "title", isString, ""),
    description: field(record, "description", isString, ""),
    dialect: field(record, "dialect", isString, ""),
    tags: field(record, "tags", isStringList, []),
    sizeBytes: field(record, "size_bytes", isSize, 0),
    createdAt: createdAt === null ? undefined : new Date(createdAt),
    url: field(record, "url", isString, ""),
    aliases: field(record, "aliases", isStringList, []),
    references: field(record, "references", isStringMap, {}),
  });
}

function field<T>(
  record: CacheRecord,
  key: string,
  isValid: (value: unknown) => value is T,
  fallback?: T,
): T {
  const value = record[key] ?? fallback;
  if (!isValid(value)) {
    throw new MalformedRecord(`${key} is missing or malformed`);
  }
  return value;
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isState(value: unknown): value is VersionState {
  return typeof value === "string" && STATES.has(value);
}

function isDateText(value: unknown): value is string | null {
  return value === null || (typeof value === "string" && !Number.isNaN(Date.parse(value)));
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
}

function isStringMap(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  return Object.values(value).every(isString);
}

async function writeAtomically(path: string, record: CacheRecord): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, `.tmp-${randomBytes(8).toString("hex")}.json`);
  try {
    const file = await open(temporary, "wx");
    try {
      await file.writeFile(JSON.stringify(record), "utf8");
      // Durable before it is visible: a crash leaves the old name or the
      // whole new file, never a torn one.
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function recordOf(schema: Schema, withContent: boolean): CacheRecord {
  const record: CacheRecord = {
    namespace: schema.namespace,
    name: schema.name,
    version: schema.version,
    digest: schema.digest,
    state: schema.state,
    title: schema.title,
    description: schema.description,
    dialect: schema.dialect,
    tags: [...schema.tags],
    size_bytes: schema.sizeBytes,
    created_at: schema.createdAt === undefined ? null : schema.createdAt.toISOString(),
    url: schema.url,
    aliases: [...schema.aliases],
    references: { ...schema.references },
  };
  if (withContent) {
    record["content"] = schema.content;
  }
  return record;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if (isMissingFile(error)) {
      return false;
    }
    throw error;
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function expandHome(directory: string): string {
  if (directory === "~") {
    return homedir();
  }
  if (directory.startsWith("~/")) {
    return join(homedir(), directory.slice(2));
  }
  return directory;
}
