/**
 * Content digests: sha256 over the RFC 8785 (JCS) canonical form of JSON.
 *
 * The registry names every version by `sha256:<hex>` of its canonical form;
 * these functions compute the same digest locally, so content can be
 * checked whatever path it came by. They use WebCrypto, present in Node and
 * in browsers alike.
 *
 * @module
 */

import canonicalize from "canonicalize";

import { DigestMismatchError } from "./errors.js";

const utf8 = new TextEncoder();

/**
 * The RFC 8785 canonical form of a JSON text.
 *
 * Numbers are read as doubles, as the registry reads them: an integer
 * beyond 2^53 is rounded to its nearest double, which is what `JSON.parse`
 * does. Throws `SyntaxError` for text that is not JSON, or that holds a
 * number no double can represent (`1e400`) or a lone surrogate.
 */
export function canonicalJson(text: string): string {
  const value: unknown = JSON.parse(text);
  let canonical: string | undefined;
  try {
    canonical = canonicalize(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`not canonicalizable JSON: ${reason}`, { cause: error });
  }
  // JSON.parse yields only values canonicalize can write.
  if (canonical === undefined) {
    throw new SyntaxError("not canonicalizable JSON");
  }
  return canonical;
}

/**
 * `sha256:<hex>` of the canonical form of a JSON text.
 *
 * Throws `SyntaxError` for text that is not JSON.
 */
export async function computeDigest(text: string): Promise<string> {
  return `sha256:${await sha256Hex(canonicalJson(text))}`;
}

/**
 * Throws `DigestMismatchError` unless `content` hashes to `expected`.
 *
 * `schema` names the content in the message (`namespace/name@version`).
 * Content that is not JSON at all is reported with the sha256 of its raw
 * UTF-8 bytes.
 */
export async function verifyDigest(
  schema: string,
  content: string,
  expected: string,
): Promise<void> {
  let actual: string;
  try {
    actual = await computeDigest(content);
  } catch (error) {
    if (!(error instanceof SyntaxError)) {
      throw error;
    }
    const raw = await sha256Hex(content);
    actual = `sha256:${raw} (of bytes that are not valid JSON)`;
  }
  if (actual !== expected) {
    throw new DigestMismatchError(schema, expected, actual);
  }
}

async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", utf8.encode(text));
  let hex = "";
  for (const byte of new Uint8Array(hash)) {
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}
