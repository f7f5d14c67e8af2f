/**
 * The transports a client talks over: gRPC over HTTP/2 (Node) or gRPC-Web
 * over `fetch` (browsers, and Node too).
 *
 * @module
 */

import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { defaultTransportKind, openHttp2Transport } from "#platform";

/**
 * `grpc` is gRPC over HTTP/2, with every kind of call, in Node only.
 * `grpc-web` is gRPC-Web over `fetch`, in browsers and Node: unary calls
 * only, since `fetch` cannot stream a request body.
 */
export type TransportKind = "grpc" | "grpc-web";

/** What every transport of a client is built from. */
export interface TransportSettings {
  /** The registry's URL, such as `http://localhost:8080`. */
  readonly baseUrl: string;
  /** Run on every call, first to last, around the network. */
  readonly interceptors: readonly Interceptor[];
}

/** A transport with what the client needs to know about it. */
export interface OpenTransport {
  readonly transport: Transport;
  /** Which transport it is; `custom` for one the caller built. */
  readonly kind: TransportKind | "custom";
  /** Closes its connections; calls in flight fail. */
  close(): void;
}

/**
 * Opens the transport `choice` names, or wraps the one it is; with no
 * choice, `grpc` in Node and `grpc-web` in browsers.
 */
export function openTransport(
  choice: TransportKind | Transport | undefined,
  settings: TransportSettings,
): OpenTransport {
  if (typeof choice === "object") {
    if (settings.interceptors.length > 0) {
      // A transport carries its interceptors from when it was built.
      throw new TypeError("interceptors cannot be added to a transport built by the caller");
    }
    return { transport: choice, kind: "custom", close: () => undefined };
  }
  const kind = choice ?? defaultTransportKind;
  switch (kind) {
    case "grpc":
      return openHttp2Transport(settings);
    case "grpc-web":
      return openGrpcWebTransport(settings);
    default:
      throw new TypeError(`unknown transport ${String(kind)}: use "grpc" or "grpc-web"`);
  }
}

function openGrpcWebTransport(settings: TransportSettings): OpenTransport {
  const transport = createGrpcWebTransport({
    baseUrl: settings.baseUrl,
    interceptors: [...settings.interceptors],
    fetch: fetchReportingUnreachable,
  });
  return { transport, kind: "grpc-web", close: () => undefined };
}

/**
 * `fetch`, with a request that got no answer at all reported as UNAVAILABLE.
 *
 * `fetch` rejects with a TypeError when no response came (connection
 * refused or reset, no such host), which gRPC calls UNAVAILABLE and the
 * client retries; Connect would otherwise report it as UNKNOWN. An abort
 * rejects with another error and is left as it is.
 */
const fetchReportingUnreachable: typeof fetch = async (input, init) => {
  try {
    return await globalThis.fetch(input, init);
  } catch (error) {
    if (!(error instanceof TypeError)) {
      throw error;
    }
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    const message = `registry unreachable: ${error.message}${cause}`;
    throw new ConnectError(message, Code.Unavailable, undefined, undefined, error);
  }
};
