/**
 * What the client does differently in Node: gRPC over HTTP/2 is available,
 * and the cache may persist to a directory.
 *
 * @module
 */

import type { TransportKind } from "../transport.js";

export { openDiskStore } from "../node/diskStore.js";
export { openHttp2Transport } from "../node/http2Transport.js";

/** The transport a client uses when none is named. */
export const defaultTransportKind: TransportKind = "grpc";
