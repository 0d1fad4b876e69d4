import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Retry-After (whole seconds) of batched requests some of whose operations a rate limit refused. */
const refusedBatches = new WeakMap<Request, number>();

/** The longest Retry-After among the batch's RATE_LIMITED errors; undefined if none was refused. */
function retryAfterOf(results: readonly ExecutionResult[]): number | undefined {
  let longest: number | undefined;
  for (const result of results) {
    for (const error of result.errors ?? []) {
      if (error.extensions?.code !== 'RATE_LIMITED') continue;
      const header = (error.extensions.http as { headers?: Record<string, string> } | undefined)?.headers?.['Retry-After'];
      longest = Math.max(longest ?? 0, Number(header ?? 0));
    }
  }
  return longest;
}

/**
 * yoga answers a batch 200 whatever its operations' errors ask for (their `http` extensions apply to
 * single operations only), so a batch with an operation refused by a rate limit would tell the client
 * neither to back off nor when to retry. Such a batch is answered 429, with the longest Retry-After of
 * its refusals (none for the subscription cap, whose slot frees when a subscription ends); the body
 * still carries every operation's result. Goes before the request summary, whose onResponse reads the
 * status.
 */
export function useBatchRefusals(): Plugin {
  return {
    onResultProcess({ request, result }) {
      if (!Array.isArray(result)) return;
      const retryAfter = retryAfterOf(result);
      if (retryAfter !== undefined) refusedBatches.set(request, retryAfter);
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const retryAfter = refusedBatches.get(request);
      if (retryAfter === undefined || response.status !== 200) return;
      const headers = new fetchAPI.Headers(response.headers);
      if (retryAfter > 0) headers.set('Retry-After', String(retryAfter));
      setResponse(new fetchAPI.Response(response.body, { status: 429, headers }));
    },
  };
}
