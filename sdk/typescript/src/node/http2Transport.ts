/**
 * gRPC over HTTP/2 with Node's `http2` module.
 *
 * @module
 */

import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import type { OpenTransport, TransportSettings } from "../transport.js";

/**
 * A gRPC transport with a connection of its own, closed by `close()`.
 *
 * Owning the session, rather than sharing one between clients, is what lets
 * a client's stream window bound what its connection carries.
 */
export function openHttp2Transport(settings: TransportSettings): OpenTransport {
  const sessionManager = new Http2SessionManager(settings.baseUrl);
  const transport = createGrpcTransport({
    baseUrl: settings.baseUrl,
    sessionManager,
    interceptors: [...settings.interceptors],
  });
  return {
    transport,
    kind: "grpc",
    close: () => sessionManager.abort(),
  };
}
