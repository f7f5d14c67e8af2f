/**
 * Retrying unary calls: UNAVAILABLE only, with exponential backoff.
 *
 * @module
 */

import { Code, ConnectError } from "@connectrpc/connect";

import { RpcError, rpcErrorFrom } from "./errors.js";

/** The fields of a `RetryPolicy`; those left out take their defaults. */
export interface RetryOptions {
  /** Attempts in all, the first included; 1 turns retries off. 5. */
  readonly maxAttempts?: number;
  /** Milliseconds before the first retry. 100. */
  readonly initialBackoffMs?: number;
  /** Ceiling on the milliseconds between two attempts. 2,000. */
  readonly maxBackoffMs?: number;
  /** Growth of the wait from one retry to the next. 2. */
  readonly multiplier?: number;
  /**
   * Fraction of each wait taken off at random, so that clients failed by
   * the same outage do not retry in step; 0 makes waits exact. 0.2.
   */
  readonly jitter?: number;
}

/**
 * When and how fast a failed call is tried again.
 *
 * Only UNAVAILABLE is retried: the server was not reached or was shutting
 * down, so the call had no effect. Every other code is the server's answer
 * and is thrown at once. Retries stop early when the next wait would pass
 * the call's deadline.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly multiplier: number;
  readonly jitter: number;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 2_000;
    this.multiplier = options.multiplier ?? 2;
    this.jitter = options.jitter ?? 0.2;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError("maxAttempts must be an integer of at least 1");
    }
    if (!(this.jitter >= 0 && this.jitter <= 1)) {
      throw new RangeError("jitter must be between 0 and 1");
    }
  }

  /** Milliseconds to wait before retry number `retry`, counted from 1. */
  backoffMs(retry: number): number {
    const ceiling = this.initialBackoffMs * this.multiplier ** (retry - 1);
    return Math.min(this.maxBackoffMs, ceiling) * (1 - this.jitter * Math.random());
  }
}

/** How one unary call runs: its policy, deadline and cancellation. */
export interface UnaryCallSettings {
  /** The method's name, for errors. */
  readonly method: string;
  readonly policy: RetryPolicy;
  /** The deadline of the call as a whole, retries included; undefined for none. */
  readonly timeoutMs: number | undefined;
  /** Aborts the call, and any wait between attempts. */
  readonly signal: AbortSignal;
}

/**
 * Runs one unary call, retrying UNAVAILABLE per the policy.
 *
 * `attempt` makes one try with the milliseconds left before the deadline.
 * Throws `RpcError` (`NotFoundError` for NOT_FOUND) when the call fails.
 */
export async function callWithRetries<T>(
  attempt: (timeoutMs: number | undefined) => Promise<T>,
  settings: UnaryCallSettings,
): Promise<T> {
  const { policy, timeoutMs, method } = settings;
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  for (let number = 1; ; number += 1) {
    const remaining = deadline === undefined ? undefined : deadline - performance.now();
    if (remaining !== undefined && remaining <= 0) {
      throw new RpcError(Code.DeadlineExceeded, "the deadline passed", method);
    }
    try {
      return await attempt(remaining);
    } catch (error) {
      const delay = policy.backoffMs(number);
      const retryable = ConnectError.from(error).code === Code.Unavailable;
      const exhausted = number >= policy.maxAttempts;
      const pastDeadline = deadline !== undefined && performance.now() + delay >= deadline;
      if (!retryable || exhausted || pastDeadline || settings.signal.aborted) {
        throw rpcErrorFrom(error, method);
      }
      await sleep(delay, settings.signal);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (resolving, not rejecting). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
