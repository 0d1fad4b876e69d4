import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { postGraphQL } from './helpers/clients';
import { startPrivateRedis, type PrivateRedis } from './helpers/redis';
import { startStack, type Stack } from './helpers/stack';

/*
 * The Redis store against a redis-server of this test's own (never the shared one): which commands it
 * sends (MONITOR), and what happens when Redis dies and comes back mid-run. The server keeps its data
 * in an append-only file, so a restart brings back what was cached, as for a Redis that was only
 * unreachable: invalidations missed during the outage must still be applied.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('response cache on a Redis of its own', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  let url: string;

  beforeAll(async () => {
    redis = await startPrivateRedis({ appendOnly: true });
    stack = await startStack({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage-test:' } });
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001', 'C-1002'] });
    url = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.close();
    await redis.stop();
  });

  const query = async (document: string, variables?: Record<string, unknown>) => {
    const response = await postGraphQL(url, document, variables);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    return { cache: response.headers.get('x-cache'), data: response.body.data };
  };
  const logged = (message: string) => stack.logs.filter((line) => line.includes(message)).length;

  it('invalidates by tag sets (ZRANGE + UNLINK in a script), never with KEYS or SCAN', async () => {
    const monitor = await redis.client().monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
    try {
      const document = 'query Monitored { customer(externalId: "C-1002") { name installation { externalId } } provider { licensePools { id name } } }';
      expect((await query(document)).cache).toBe('MISS');
      expect((await query(document)).cache).toBe('HIT');
      const upsert = await postGraphQL(url, 'mutation { upsertCustomer(input: { externalId: "C-1002", name: "Monitored Rename" }) { id } }');
      expect(upsert.body.errors).toBeUndefined();
      expect(await query(document)).toMatchObject({ cache: 'MISS', data: { customer: { name: 'Monitored Rename' } } });
      await sleep(100);
    } finally {
      monitor.disconnect();
    }
    expect(commands).toEqual(expect.arrayContaining(['get', 'evalsha', 'set', 'zadd', 'pexpire', 'zrange', 'unlink']));
    expect(commands.filter((command) => ['keys', 'scan', 'flushdb', 'flushall'].includes(command))).toEqual([]);
  });

  it('fails open while Redis is down (no 500, no caching, one log line) and recovers, applying missed invalidations', async () => {
    const byExternalId = 'query Outage { customer(externalId: "C-1001") { name } }';
    const fromUpstream = 'query OutageUpstream { provider { id } }';
    expect((await query(byExternalId)).cache).toBe('MISS');
    expect((await query(fromUpstream)).cache).toBe('MISS');
    expect((await query(byExternalId)).cache).toBe('HIT');
    const original = (await query(byExternalId)).data.customer.name;

    await redis.kill();
    await until(async () => (logged('Redis is unreachable') > 0 ? true : undefined), 3_000);

    const before = stack.simulator.stats.graphqlRequests;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await query(byExternalId)).toMatchObject({ cache: 'MISS', data: { customer: { name: original } } });
      expect((await query(fromUpstream)).cache).toBe('MISS');
      expect(stack.simulator.stats.graphqlRequests).toBe(before + attempt);
    }
    // A mutation during the outage: its invalidation cannot reach Redis now.
    const renamed = await postGraphQL(url, 'mutation { upsertCustomer(input: { externalId: "C-1001", name: "Renamed During Outage" }) { name } }');
    expect(renamed.status).toBe(200);
    expect(renamed.body.errors).toBeUndefined();
    expect(logged('Redis is unreachable')).toBe(1);

    // Back with the data it had, including the now stale entry for C-1001.
    await redis.restart();
    const inspector = redis.client();
    expect(await inspector.zcard('outage-test:cache:index')).toBeGreaterThan(0); // the append-only file brought the entries back
    const names: string[] = [];
    await until(async () => {
      const result = await query(byExternalId);
      names.push(result.data.customer.name);
      return result.cache === 'HIT' ? true : undefined;
    }, 8_000);
    expect(new Set(names)).toEqual(new Set(['Renamed During Outage']));
    // Caching resumes for new entries too.
    const fresh = 'query AfterOutage { provider { name } }';
    expect((await query(fresh)).cache).toBe('MISS');
    expect((await query(fresh)).cache).toBe('HIT');

    expect(logged('Redis is unreachable')).toBe(1);
    expect(logged('Redis is reachable again')).toBe(1);
    expect(logged('applied the invalidations queued while Redis was unreachable')).toBe(1);
    // Warnings and errors: only the connection's own outage and recovery lines, nothing per request.
    const loud = stack.logs.filter((line) => /"level":(40|50|60)/.test(line)).map((line) => JSON.parse(line).msg);
    expect(loud).toEqual(['Redis is unreachable; cache fails open, rate limits fall back', 'Redis is reachable again']);
  });
});
