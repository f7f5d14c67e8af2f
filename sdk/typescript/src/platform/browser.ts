/**
 * What the client does differently in browsers: no HTTP/2 transport of its
 * own and no cache directory, so gRPC-Web is the default and a memory cache
 * the only one.
 *
 * @module
 */

import { OvsrError } from "../errors.js";
import type { TransportKind } from "../transport.js";
import type * as node from "./node.js";

/** The transport a client uses when none is named. */
export const defaultTransportKind: TransportKind = "grpc-web";

/** Refuses: a browser cannot open a gRPC connection over HTTP/2. */
export const openHttp2Transport: typeof node.openHttp2Transport = () => {
  throw new OvsrError(
    'the "grpc" transport needs Node\'s http2 module; in a browser use "grpc-web"',
  );
};

/** Refuses: a browser has no directory to persist the cache to. */
export const openDiskStore: typeof node.openDiskStore = () => {
  throw new OvsrError("a cache directory needs Node's file system; leave `directory` unset");
};
