import type { YogaServerOptions } from 'graphql-yoga';

/** Which browser origins may call the gateway from another origin: any (`*`) or these exact origins. */
export type CorsOrigins = '*' | ReadonlyArray<string>;

/** Response headers a browser script may read: revalidation, the cache verdict, the request id. */
const EXPOSED_HEADERS = ['etag', 'x-cache', 'x-request-id', 'last-modified'];

/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * CORS_ORIGINS: `*`, or comma-separated origins (`https://app.example.com`, scheme, host and port, no
 * path). `null` is refused: sandboxed iframes and file:// pages all send that origin.
 */
export function parseCorsOrigins(value: string | undefined): CorsOrigins | undefined {
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new Error(`"${origin}" is not an origin such as https://app.example.com (scheme, host, optional port; no path or trailing slash)`);
    }
    return origin;
  });
}

type YogaCors = NonNullable<YogaServerOptions<object, object>['cors']>;

/**
 * yoga's CORS handling with an allowlist: an allowed origin is answered with itself, any other origin
 * gets no CORS headers at all, so its browser refuses the response (yoga's own array handling would
 * answer `Access-Control-Allow-Origin: null`, which a sandboxed iframe's origin matches). Same-origin
 * requests (the GraphiQL page) need no CORS headers, so an empty list allows exactly those. No
 * credentials mode: clients authenticate with headers, never cookies.
 */
export function corsPolicy(origins: CorsOrigins): YogaCors {
  const common = { credentials: false, exposedHeaders: EXPOSED_HEADERS, maxAge: PREFLIGHT_MAX_AGE_S };
  // yoga reflects any origin and adds Vary: Origin.
  if (origins === '*') return { origin: '*', ...common };
  if (origins.length === 0) return false;
  const allowed = new Set(origins);
  // A list of several makes yoga reflect the (allowed) origin with Vary: Origin.
  const answer = { origin: [...origins], ...common };
  return (request: Request) => (allowed.has(request.headers.get('origin') ?? '') ? answer : false);
}
