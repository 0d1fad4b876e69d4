import { upstreamError } from './errors';

/** Gives the slot back; idempotent. */
export type Release = () => void;

interface Waiter {
  grant(release: Release): void;
}

/**
 * At most `max` upstream requests in flight (IOMETER_MAX_CONCURRENCY); later ones queue in arrival
 * order. A request that gets no slot within its wait fails with UPSTREAM_UNAVAILABLE instead of
 * piling up behind a slow IOmeter.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly max: number) {}

  /** Requests holding a slot right now. */
  get inFlight(): number {
    return this.active;
  }

  /** Requests waiting for a slot right now. */
  get queued(): number {
    return this.waiting.length;
  }

  acquire(waitMs: number, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          settle();
          resolve(release);
        },
      };
      const leave = (error: unknown) => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        settle();
        reject(error);
      };
      const timer = setTimeout(
        () => leave(upstreamError('UPSTREAM_UNAVAILABLE', new Error(`no free upstream slot within ${waitMs} ms (${this.max} in flight)`))),
        waitMs,
      );
      const onAbort = () => leave(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.waiting.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; `active` only drops when nobody waits.
      if (next) next.grant(this.releaser());
      else this.active -= 1;
    };
  }
}
