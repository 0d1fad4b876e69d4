import type { Identity } from '../identity';

/**
 * Who sent each in-flight HTTP request, set once by useAuthentication. Hooks that run before the
 * GraphQL context exists (validation, persisted operations) read it from here; WebSocket operations
 * carry their identity in the initial context instead.
 */
export class RequestIdentities {
  private readonly byRequest = new WeakMap<Request, Identity>();

  set(request: Request, identity: Identity): void {
    this.byRequest.set(request, identity);
  }

  of(context: { identity?: Identity; request?: Request }): Identity | undefined {
    return context.identity ?? (context.request ? this.byRequest.get(context.request) : undefined);
  }
}
