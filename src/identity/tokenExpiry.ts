import { jose } from './jose';

/**
 * When the Bearer JWT in `headers` expires, in epoch milliseconds; undefined without one (API keys,
 * anonymous sandbox callers). Only for a token the authenticator has already verified: this decodes,
 * it does not verify.
 */
export function bearerTokenExpiresAtMs(headers: Headers): number | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
  if (!match) return undefined;
  try {
    const { exp } = jose.decodeJwt(match[1]!);
    return typeof exp === 'number' ? exp * 1_000 : undefined;
  } catch {
    return undefined;
  }
}
