/**
 * The errors the SDK throws; every one is an `OvsrError`.
 *
 * @module
 */

import { Code, ConnectError } from "@connectrpc/connect";

/** Base class of every error the SDK throws. */
export class OvsrError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A call the registry answered with an error status.
 *
 * `code` is the gRPC status (`Code.InvalidArgument` for bad input, naming the
 * field; `Code.Unavailable` once retries are spent; ...) and `details` the
 * server's message.
 */
export class RpcError extends OvsrError {
  /** The gRPC status code. */
  readonly code: Code;
  /** The server's message, without the code. */
  readonly details: string;
  /** The method called, such as `GetSchema`. */
  readonly method: string;

  constructor(code: Code, details: string, method: string, options?: ErrorOptions) {
    super(`${method}: ${statusName(code)}: ${details}`, options);
    this.code = code;
    this.details = details;
    this.method = method;
  }
}

/** The schema, version or digest asked for does not exist (or is deleted). */
export class NotFoundError extends RpcError {}

/**
 * Content whose digest is not the one it came with.
 *
 * Thrown when the server (or something between it and the client) sends
 * content that does not hash to the digest given alongside it; the content
 * is never returned or cached.
 */
export class DigestMismatchError extends OvsrError {
  /** The content's name, `namespace/name@version`. */
  readonly schema: string;
  /** The digest the registry gave. */
  readonly expected: string;
  /** The digest the content hashes to. */
  readonly actual: string;

  constructor(schema: string, expected: string, actual: string) {
    super(
      `schema ${schema}: content hashes to ${actual}, ` +
        `but the registry gave its digest as ${expected}`,
    );
    this.schema = schema;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A persisted cache file that failed verification when loaded.
 *
 * The file has been removed when this is reported (unless `removed` says
 * otherwise); the cache counts it in `CacheStats.rejectedFiles`, passes it
 * to its `onWarning`, and the client fetches the entry from the server.
 */
export class CorruptCacheFileError extends OvsrError {
  /** The file. */
  readonly path: string;
  /** Why it was rejected. */
  readonly reason: string;
  /** False when removing the file failed too. */
  readonly removed: boolean;

  constructor(path: string, reason: string, removed = true, options?: ErrorOptions) {
    const outcome = removed ? "rejected and removed" : "rejected, and could not be removed";
    super(`cache file ${path} ${outcome}: ${reason}`, options);
    this.path = path;
    this.reason = reason;
    this.removed = removed;
  }
}

/**
 * The gRPC name of a status code, `NOT_FOUND` for `Code.NotFound`.
 */
export function statusName(code: Code): string {
  // gRPC spells it the British way; Connect's enum does not.
  if (code === Code.Canceled) {
    return "CANCELLED";
  }
  const name = Code[code];
  if (name === undefined) {
    return `CODE_${code}`;
  }
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * The SDK's error for a failed call: `NotFoundError` for NOT_FOUND,
 * `RpcError` for every other code.
 */
export function rpcErrorFrom(error: unknown, method: string): RpcError {
  if (error instanceof RpcError) {
    return error;
  }
  const connectError = ConnectError.from(error);
  const options = { cause: error };
  const { code, rawMessage } = connectError;
  if (code === Code.NotFound) {
    return new NotFoundError(code, rawMessage, method, options);
  }
  return new RpcError(code, rawMessage, method, options);
}
