/**
 * The bound on documents sent ahead of their results, over every
 * validation stream of one client.
 *
 * @module
 */

/** A counting semaphore whose waiters are served in arrival order. */
export class StreamWindow {
  #available: number;
  readonly #waiters: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError("streamWindow must be an integer of at least 1");
    }
    this.#available = size;
  }

  /** Resolves once a slot is free, and takes it. */
  acquire(): Promise<void> {
    if (this.#available > 0) {
      this.#available -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Frees a slot, handing it to the oldest waiter if there is one. */
  release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) {
      this.#available += 1;
    } else {
      next();
    }
  }
}

/**
 * The share of the client's window one stream holds.
 *
 * A permit is taken before a document is sent and given back when its
 * result arrives; whatever the stream holds when it ends goes back at once.
 */
export class StreamPermits {
  readonly #window: StreamWindow;
  #held = 0;
  #closed = false;

  constructor(window: StreamWindow) {
    this.#window = window;
  }

  /** Waits for a permit; false once the stream has ended. */
  async acquire(): Promise<boolean> {
    await this.#window.acquire();
    if (this.#closed) {
      this.#window.release();
      return false;
    }
    this.#held += 1;
    return true;
  }

  /** Gives back the permit of a document whose result arrived. */
  releaseOne(): void {
    if (this.#held > 0) {
      this.#held -= 1;
      this.#window.release();
    }
  }

  /** Gives back every permit still held; later acquires fail. */
  close(): void {
    this.#closed = true;
    for (; this.#held > 0; this.#held -= 1) {
      this.#window.release();
    }
  }
}
