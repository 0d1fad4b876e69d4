import Redis from 'ioredis';
import { identityHash } from '../src/identity';
import { jose } from '../src/identity/jose';
import { postGraphQL, subscribeWs } from './helpers/clients';
import { startPrivateRedis, uniqueKeyPrefix, type PrivateRedis } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

/**
 * Redis goes away mid-run and comes back. This uses a private redis-server on its own port: the
 * shared one on 6379 serves other test files at the same time and must never be stopped.
 */
const SECRET = 'redis-outage-test-secret-of-32-characters-or-more';
const MAX = 5;

async function bearer(subject: string): Promise<Record<string, string>> {
  const token = await new jose.SignJWT({ role: 'staff' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
  return { authorization: `Bearer ${token}` };
}

const logged = (stack: Stack, message: RegExp) => stack.logs.filter((line) => message.test(JSON.parse(line).msg ?? '')).length;

describe('when Redis goes down and comes back', () => {
  let redis: PrivateRedis;
  let failOpen: Stack;
  let failClosed: Stack;
  const openPrefix = uniqueKeyPrefix('test-rl-open');
  const closedPrefix = uniqueKeyPrefix('test-rl-closed');
  const counter = (prefix: string, subject: string) =>
    `${prefix}rl:ops:id:${identityHash({ role: 'staff', subject, via: 'jwt' })}`;

  async function readCounter(key: string): Promise<string | null> {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    try {
      await client.connect();
      return await client.get(key);
    } catch {
      return null;
    } finally {
      client.disconnect();
    }
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const env = { AUTH_JWT_SECRET: SECRET, REDIS_URL: redis.url, CACHE_TTL: '0', RATE_LIMIT_MAX: String(MAX) };
    [failOpen, failClosed] = await Promise.all([
      startStack({ env: { ...env, REDIS_KEY_PREFIX: openPrefix } }),
      startStack({ env: { ...env, REDIS_KEY_PREFIX: closedPrefix, RATE_LIMIT_ON_REDIS_ERROR: 'closed' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([failOpen?.close(), failClosed?.close()]);
    await redis?.stop();
  });

  it('counts in Redis while it is up', async () => {
    const olivia = await bearer('olivia');
    const statuses: number[] = [];
    for (let i = 0; i <= MAX; i += 1) statuses.push((await postGraphQL(failOpen.gateway.url, '{ __typename }', undefined, olivia)).status);
    expect(statuses).toEqual([...Array(MAX).fill(200), 429]);
    expect(await readCounter(counter(openPrefix, 'olivia'))).toBe(String(MAX + 1));
    expect((await postGraphQL(failClosed.gateway.url, '{ __typename }', undefined, olivia)).status).toBe(200);
  });

  it('fails open to a per-process limiter (default), or closed with 503 RATE_LIMIT_UNAVAILABLE, logging once', async () => {
    await redis.kill();
    await waitFor(() => logged(failOpen, /Redis is unreachable/) > 0 && logged(failClosed, /Redis is unreachable/) > 0, 15_000, 'both gateways to log Redis unreachable');

    // Open: requests keep working, still limited, now per process.
    const paul = await bearer('paul');
    const statuses: number[] = [];
    for (let i = 0; i <= MAX; i += 1) statuses.push((await postGraphQL(failOpen.gateway.url, '{ __typename }', undefined, paul)).status);
    expect(statuses).toEqual([...Array(MAX).fill(200), 429]);

    // Closed: every operation is refused with a clear code, never a 500.
    for (let i = 0; i < 3; i += 1) {
      const refused = await postGraphQL(failClosed.gateway.url, '{ __typename }', undefined, paul);
      expect(refused.status).toBe(503);
      expect(refused.body.errors).toEqual([{ message: expect.any(String), extensions: { code: 'RATE_LIMIT_UNAVAILABLE' } }]);
    }
    const [subscription] = await subscribeWs(failClosed.gateway.wsUrl, 'subscription { readings { time } }', 1, {
      connectionParams: paul,
    }).done;
    expect(subscription.errors?.[0]?.extensions?.code).toBe('RATE_LIMIT_UNAVAILABLE');

    // One log line per outage, not one per request.
    expect(logged(failOpen, /Redis is unreachable/)).toBe(1);
    expect(logged(failClosed, /Redis is unreachable/)).toBe(1);
    expect(logged(failClosed, /rate limits cannot be counted/)).toBe(1);
    expect(failOpen.logs.concat(failClosed.logs).filter((line) => JSON.parse(line).level >= 50 && /unexpected error/.test(line))).toEqual([]);
  });

  it('counts in Redis again once it is back', async () => {
    await redis.restart();
    await waitFor(() => logged(failOpen, /Redis is reachable again/) > 0 && logged(failClosed, /Redis is reachable again/) > 0, 15_000, 'both gateways to log Redis reachable again');
    const quinn = await bearer('quinn');
    const key = counter(openPrefix, 'quinn');
    expect((await postGraphQL(failOpen.gateway.url, '{ __typename }', undefined, quinn)).status).toBe(200);
    expect(await readCounter(key)).toBe('1');
    const statuses: number[] = [];
    for (let i = 1; i <= MAX; i += 1) statuses.push((await postGraphQL(failOpen.gateway.url, '{ __typename }', undefined, quinn)).status);
    expect(statuses).toEqual([...Array(MAX - 1).fill(200), 429]);
    expect(await readCounter(key)).toBe(String(MAX + 1));

    expect((await postGraphQL(failClosed.gateway.url, '{ __typename }', undefined, quinn)).status).toBe(200);
    expect(logged(failOpen, /Redis is reachable again/)).toBe(1);
    expect(logged(failClosed, /counted in Redis again/)).toBe(1);
  });
});
