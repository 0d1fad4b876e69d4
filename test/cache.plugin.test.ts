import { Writable } from 'node:stream';
import { createSchema, createYoga } from 'graphql-yoga';
import { CacheStats } from '../src/cache/stats';
import type { Identity } from '../src/identity';
import { createLogger } from '../src/logging/logger';
import { useAuthentication } from '../src/plugins/useAuthentication';
import { useGatewayResponseCache } from '../src/plugins/useGatewayResponseCache';

/** The cache plugin on a small schema: counters, the x-cache header, and start-up validation. */

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
const staff: Identity = { role: 'staff', subject: 'alice', via: 'jwt' };

function gateway(overrides: Record<string, number> = {}) {
  let executions = 0;
  const stats = new CacheStats();
  const cache = useGatewayResponseCache({ config: { ttlMs: 60_000, overrides }, logger: silent, stats });
  const authenticate = useAuthentication({ authenticate: async () => staff, logger: silent });
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: 'type Query { counter: Int!, broken: Int } type Mutation { touch: Int! }',
      resolvers: {
        Query: {
          counter: () => ++executions,
          broken: () => {
            throw new Error('boom');
          },
        },
        Mutation: { touch: () => 1 },
      },
    }),
    plugins: [authenticate, cache],
    logging: false,
  });
  const post = async (query: string) => {
    const response = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return { cache: response.headers.get('x-cache'), body: await response.json() };
  };
  return { post, stats };
}

describe('useGatewayResponseCache', () => {
  it('counts hits and misses per query, says which in x-cache, and keeps its metadata out of the body', async () => {
    const { post, stats } = gateway();
    const first = await post('{ counter }');
    const second = await post('{ counter }');
    expect(first).toEqual({ cache: 'MISS', body: { data: { counter: 1 } } });
    expect(second).toEqual({ cache: 'HIT', body: { data: { counter: 1 } } });
    expect(stats.snapshot()).toEqual({ hits: 1, misses: 1, storeErrors: 0 });
  });

  it('never caches a result with errors, and counts neither hit nor miss for mutations', async () => {
    const { post, stats } = gateway();
    const partial = await post('{ counter broken }');
    const again = await post('{ counter broken }');
    expect(partial.cache).toBe('MISS');
    expect(again.cache).toBe('MISS');
    expect(again.body.data.counter).toBe(2);
    expect(again.body.errors).toHaveLength(1);
    const mutation = await post('mutation { touch }');
    expect(mutation.cache).toBeNull();
    expect(mutation.body).toEqual({ data: { touch: 1 } });
    expect(stats.snapshot()).toEqual({ hits: 0, misses: 2, storeErrors: 0 });
  });

  it('applies a TTL of 0 per coordinate: such responses are never cached', async () => {
    const { post } = gateway({ 'Query.counter': 0 });
    await post('{ counter }');
    const again = await post('{ counter }');
    expect(again).toEqual({ cache: 'MISS', body: { data: { counter: 2 } } });
  });

  it('installs nothing with CACHE_TTL=0', () => {
    const stats = new CacheStats();
    const plugin = useGatewayResponseCache({ config: { ttlMs: 0, overrides: {} }, logger: silent, stats });
    expect(plugin).toEqual({});
    expect(stats.snapshot()).toEqual({ hits: 0, misses: 0, storeErrors: 0 });
  });

  it('refuses to start (createYoga throws) with an override naming no type or field of the schema', () => {
    expect(() => gateway({ 'Query.countr': 1_000, Nope: 1_000 })).toThrow(
      'CACHE_TTL_OVERRIDES: "Query.countr": Query has no field countr; "Nope": the schema has no type Nope',
    );
  });
});
