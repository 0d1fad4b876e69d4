import type { ServerResponse } from 'node:http';

/**
 * The HTTP responses still being produced, so that a shutdown can wait for them (up to a deadline)
 * instead of cutting them off. SSE streams count too; they end when their subscriptions complete.
 */
export class InFlightRequests {
  private readonly responses = new Set<ServerResponse>();
  private onEmpty?: () => void;
  private draining = false;

  get size(): number {
    return this.responses.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  track(response: ServerResponse): void {
    // A client on a keep-alive connection keeps sending to a draining server, which never refuses
    // it: only a closed connection sends it to another replica.
    if (this.draining) response.setHeader('connection', 'close');
    this.responses.add(response);
    response.once('close', () => {
      this.responses.delete(response);
      if (this.responses.size === 0) this.onEmpty?.();
    });
  }

  /**
   * From now on every response closes its connection once sent, those not yet sent included.
   * Resolves true once none is left, or false when `timeoutMs` passed first.
   */
  drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
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
