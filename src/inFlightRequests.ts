import type { ServerResponse } from 'node:http';

/**
 * The HTTP responses still being produced, so that a shutdown can wait for them (up to a deadline)
 * instead of cutting them off. SSE streams count too; they end when their subscriptions complete.
 */
export class InFlightRequests {
  private readonly responses = new Set<ServerResponse>();
  private onEmpty?: () => void;

  get size(): number {
    return this.responses.size;
  }

  track(response: ServerResponse): void {
    this.responses.add(response);
    response.once('close', () => {
      this.responses.delete(response);
      if (this.responses.size === 0) this.onEmpty?.();
    });
  }

  /**
   * Asks every response not yet sent to close its connection afterwards (a keep-alive connection
   * would otherwise carry new requests into a server that is going away), then waits until none is
   * left or `timeoutMs` passed. Resolves true if all finished in time.
   */
  drain(timeoutMs: number): Promise<boolean> {
    for (const response of this.responses) {
      if (!response.headersSent) response.setHeader('connection', 'close');
    }
    if (this.responses.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onEmpty = undefined;
        resolve(false);
      }, timeoutMs);
      this.onEmpty = () => {
        clearTimeout(timer);
        this.onEmpty = undefined;
        resolve(true);
      };
    });
  }
}
