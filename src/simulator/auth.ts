import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { SimulatorStats } from './stats';

/** HTTP Basic `token:secret`, as the IOmeter API expects on every request. */

export interface Credentials {
  token: string;
  secret: string;
}

export type AuthorizationCheck = (authorization: string | null | undefined) => boolean;

const digest = (text: string) => createHash('sha256').update(text).digest();

export function createAuthorizationCheck(credentials: Credentials): AuthorizationCheck {
  const expected = digest(`${credentials.token}:${credentials.secret}`);
  return (authorization) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    const supplied = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    // Digests have equal length, so the comparison takes the same time whatever was supplied.
    return timingSafeEqual(digest(supplied), expected) && match !== null;
  };
}

/** graphql-ws clients send the header in the connection_init payload; browsers cannot set it on the upgrade. */
export function webSocketAuthorization(payload: unknown, upgradeHeader: string | undefined): string | undefined {
  if (payload && typeof payload === 'object') {
    const { authorization, Authorization } = payload as Record<string, unknown>;
    const fromPayload = authorization ?? Authorization;
    if (typeof fromPayload === 'string') return fromPayload;
  }
  return upgradeHeader;
}

export function useBasicAuth(options: {
  isAuthorized: AuthorizationCheck;
  graphqlEndpoint: string;
  stats: SimulatorStats;
}): Plugin {
  const { isAuthorized, graphqlEndpoint, stats } = options;
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const authorization = request.headers.get('authorization');
      if (authorization !== null) stats.authorizationHeaders.push(authorization);
      if (url.pathname !== graphqlEndpoint) return;
      if (!isAuthorized(authorization)) {
        const body = {
          errors: [
            {
              message: 'Unauthorized: send Authorization: Basic base64(token:secret)',
              extensions: { code: 'UNAUTHENTICATED' },
            },
          ],
        };
        endResponse(
          new fetchAPI.Response(JSON.stringify(body), {
            status: 401,
            headers: { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="IOmeter Provider API"' },
          }),
        );
        return;
      }
      stats.graphqlRequests += 1;
    },
  };
}
