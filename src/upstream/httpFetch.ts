import { upstreamError } from './errors';

export interface UpstreamFetchOptions {
  authorization: string;
  timeoutMs: number;
}

/**
 * The fetch every IOmeter HTTP request goes through: it adds the provider's credentials,
 * bounds the wait, and turns transport failures into stable, masked GraphQL errors.
 * GraphQL-level answers (2xx, and 4xx bodies such as validation errors) pass through untouched.
 */
export function createUpstreamFetch({ authorization, timeoutMs }: UpstreamFetchOptions): typeof fetch {
  return async function upstreamFetch(input, init = {}) {
    const headers = new Headers(init.headers);
    headers.set('authorization', authorization);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(input, { ...init, headers, signal });
    } catch (error) {
      throw upstreamError(timeout.aborted ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', error);
    }
    if (response.status === 401 || response.status === 403) throw upstreamError('UPSTREAM_UNAUTHORIZED');
    if (response.status === 429 || response.status >= 500) throw upstreamError('UPSTREAM_UNAVAILABLE');
    return response;
  };
}
