import { createHash, timingSafeEqual } from 'node:crypto';

export const METRICS_PATH = '/metrics';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** METRICS_TOKEN as a Bearer token; without a token configured, anyone who can reach the port may scrape. */
export function metricsAccessAllowed(authorization: string | null | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  // Equal-length digests keep the comparison's time independent of what was sent.
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}
