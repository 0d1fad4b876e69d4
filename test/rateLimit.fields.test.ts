import fs from 'node:fs';
import { DIRECTIVE_SDL } from '@envelop/rate-limiter';
import { buildSchema, parse, print } from 'graphql';
import { loadGatewayConfig } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { parseFieldBudgets } from '../src/rateLimit/budgets';
import { fieldLimits } from '../src/rateLimit/fieldLimits';
import { startGateway } from '../src/server';
import { postGraphQL, subscribeWs } from './helpers/clients';
import { postgresBackend } from './helpers/database';
import { startStack, type Stack } from './helpers/stack';
import { staffAuthorization } from './helpers/tokens';

const SECRET = 'field-rate-limit-test-secret-of-32-characters';

const bearer = async (subject: string) => ({ authorization: await staffAuthorization(SECRET, subject) });

const RANGE = 'from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", resolution: DAY';
const aliases = (count: number, selection: string) => Array.from({ length: count }, (_, index) => `a${index}: ${selection}`).join(' ');

describe('the @rateLimit directive', () => {
  it("is @envelop/rate-limiter's DIRECTIVE_SDL, verbatim", () => {
    const declared = fs.readFileSync('additional-typedefs/rateLimit.graphql', 'utf8');
    expect(print(parse(declared))).toBe(print(parse(DIRECTIVE_SDL)));
  });

  const schema = (fields: string) =>
    buildSchema(`${DIRECTIVE_SDL} type Query { ${fields} } type Customer { consumption: Int @rateLimit(max: 5, window: "1m") }`);

  it.each([
    ['a: Int @rateLimit(window: "1m")', /@rateLimit on Query\.a: max must be an integer ≥ 1/],
    ['a: Int @rateLimit(max: 0, window: "1m")', /@rateLimit on Query\.a: max must be an integer ≥ 1/],
    ['a: Int @rateLimit(max: 5)', /@rateLimit on Query\.a: invalid window ""/],
    ['a: Int @rateLimit(max: 5, window: "1500ms")', /@rateLimit on Query\.a: invalid window "1500ms"/],
    ['a(id: ID): Int @rateLimit(max: 5, window: "1m", identityArgs: ["id"])', /@rateLimit on Query\.a: identityArgs not supported/],
    ['a: Int @rateLimit(max: 5, window: "1m", readOnly: true, uncountRejected: true)', /Query\.a: readOnly, uncountRejected not supported/],
  ])('refuses %s at start-up, naming the field', (fields, message) => {
    expect(() => fieldLimits(schema(fields), new Map())).toThrow(message);
  });

  it('refuses RATE_LIMIT_FIELDS entries for a field with the directive or for no field at all', () => {
    expect(() => fieldLimits(schema('a: Int'), parseFieldBudgets('Customer.consumption=off'))).toThrow(/RATE_LIMIT_FIELDS: Customer\.consumption has @rateLimit/);
    const withDirective = () => fieldLimits(schema('a: Int'), new Map([['Customer.consumption', { max: 50, windowMs: 60_000 }]]));
    expect(withDirective).toThrow(/RATE_LIMIT_FIELDS: Customer\.consumption has @rateLimit in the schema/);
    expect(() => fieldLimits(schema('a: Int'), new Map([['Query.b', { max: 1, windowMs: 1_000 }]]))).toThrow(/RATE_LIMIT_FIELDS: "Query\.b": Query has no field b/);
  });

  it('stops the gateway from starting, naming the coordinate', async () => {
    const { db, cleanup } = await postgresBackend.open();
    try {
      const config = loadGatewayConfig({ PORT: '0', HOST: '127.0.0.1', ARCHIVE_ENABLED: 'false', RATE_LIMIT_FIELDS: 'Customer.consumption=5/1m' });
      const upstream = { endpoint: 'http://127.0.0.1:9/v1/query', wsEndpoint: 'ws://127.0.0.1:9/v1/query', token: 't', secret: 's', timeoutMs: 1_000 };
      await expect(startGateway({ config: { ...config, upstream }, database: db, logger: createLogger({ level: 'silent' }) })).rejects.toThrow(
        /Customer\.consumption has @rateLimit in the schema/,
      );
    } finally {
      await cleanup();
    }
  });
});

describe('per-field budgets through @envelop/rate-limiter, in memory', () => {
  let stack: Stack;
  let url: string;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        AUTH_JWT_SECRET: SECRET,
        CACHE_TTL: '30s',
        RATE_LIMIT_FIELDS: 'IometerProvider.readings=1/1m',
        LIMIT_MAX_ALIASES: '80',
        LIMIT_MAX_COST: '100000',
      },
    });
    url = stack.gateway.url;
  });
  afterAll(() => stack.close());

  it('keeps IometerInstallation.consumption and Customer.consumption apart (type-qualified budgets)', async () => {
    const lena = await bearer('lena');
    // Both carry @rateLimit(max: 60, window: "1m").
    const installation = (count: number) =>
      postGraphQL(url, `{ provider { installation(externalId: "nobody") { ${aliases(count, `consumption(${RANGE}) { readings }`)} } } }`, undefined, lena);
    const customer = () => postGraphQL(url, `{ customer(externalId: "nobody") { consumption(${RANGE}) { readings } } }`, undefined, lena);

    expect((await installation(60)).status).toBe(200);
    const refused = await installation(1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.body.errors).toEqual([{ message: expect.stringMatching(/rate limit/i), extensions: { code: 'RATE_LIMITED' } }]);
    expect((await customer()).status).toBe(200);
  });

  it('walks only the operation that runs, and fragments it spreads', async () => {
    const mona = await bearer('mona');
    const document = `
      query Pages($limit: Int) { provider { ...Page } }
      query Id { provider { id } }
      fragment Page on IometerProvider { readings(limit: $limit) { cursor } }`;
    // Distinct variables: a response-cache hit would spend no field budget.
    const run = (operationName: string, limit = 1) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...mona },
        body: JSON.stringify({ query: document, operationName, variables: operationName === 'Pages' ? { limit } : undefined }),
      });
    for (let i = 0; i < 3; i += 1) expect((await run('Id')).status).toBe(200);
    expect((await run('Pages', 1)).status).toBe(200);
    expect((await run('Pages', 2)).status).toBe(429);
  });

  it('refuses over WebSocket with RATE_LIMITED', async () => {
    const nina = await bearer('nina');
    const page = '{ provider { readings(limit: 1) { cursor } } }';
    const [admitted] = await subscribeWs(stack.gateway.wsUrl, page, 1, { connectionParams: nina }).done;
    expect(admitted.errors).toBeUndefined();
    const [refused] = await subscribeWs(stack.gateway.wsUrl, page, 1, { connectionParams: nina }).done;
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })]);
  });

  it('answers a batch refused by a rate limit with 429 and Retry-After, never as a cache hit', async () => {
    const olga = await bearer('olga');
    // The first operation is a cache hit the second time; the second spends the readings budget (1) each time.
    const batch = (limit: number) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...olga },
        body: JSON.stringify([{ query: '{ provider { id } }' }, { query: `{ provider { readings(limit: ${limit}) { cursor } } }` }]),
      });
    expect((await batch(1)).status).toBe(200);
    const refused = await batch(2);
    const body = (await refused.json()) as Array<{ data?: unknown; errors?: Array<{ extensions: { code: string } }> }>;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.headers.get('x-cache')).not.toBe('HIT');
    expect(body[0]!.data).toEqual({ provider: { id: expect.any(String) } });
    expect(body[1]!.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
  });
});
