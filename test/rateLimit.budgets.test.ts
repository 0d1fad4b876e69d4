import { buildSchema, getOperationAST, parse } from 'graphql';
import { ConfigError, loadGatewayConfig } from '../src/config';
import { DEFAULT_FIELD_BUDGETS, parseFieldBudgets } from '../src/rateLimit/budgets';
import { countSelections } from '../src/rateLimit/selections';

describe('RATE_LIMIT_FIELDS', () => {
  it('defaults to tight budgets for upstream-mutating fields and readings pages', () => {
    expect(Object.fromEntries(parseFieldBudgets(undefined))).toEqual({
      'Mutation.createRegistrationToken': { max: 10, windowMs: 60_000 },
      'Mutation.onboardCustomer': { max: 10, windowMs: 60_000 },
      'Mutation.registerMyMeter': { max: 10, windowMs: 60_000 },
      'Mutation.updateLicense': { max: 30, windowMs: 60_000 },
      'Mutation.upsertCustomer': { max: 30, windowMs: 60_000 },
      'IometerProvider.readings': { max: 60, windowMs: 60_000 },
      'IometerInstallation.consumption': { max: 60, windowMs: 60_000 },
      'Customer.consumption': { max: 60, windowMs: 60_000 },
      'IometerInstallation.readingHistory': { max: 60, windowMs: 60_000 },
    });
  });

  it('overrides, adds and switches off budgets', () => {
    const budgets = parseFieldBudgets(' Mutation.onboardCustomer=5/1m, IometerProvider.readings=120/30s,Query.customers=100/1h,Mutation.updateLicense=off');
    expect(budgets.get('Mutation.onboardCustomer')).toEqual({ max: 5, windowMs: 60_000 });
    expect(budgets.get('IometerProvider.readings')).toEqual({ max: 120, windowMs: 30_000 });
    expect(budgets.get('Query.customers')).toEqual({ max: 100, windowMs: 3_600_000 });
    expect(budgets.has('Mutation.updateLicense')).toBe(false);
    expect(budgets.get('Mutation.upsertCustomer')).toEqual(DEFAULT_FIELD_BUDGETS['Mutation.upsertCustomer']);
  });

  it.each([
    ['onboardCustomer=5/1m', /not Type\.field=max\/window/],
    ['Mutation.onboardCustomer', /not Type\.field=max\/window/],
    ['Mutation.onboardCustomer=5', /not max\/window/],
    ['Mutation.onboardCustomer=0/1m', /max ≥ 1/],
    ['Mutation.onboardCustomer=five/1m', /not max\/window/],
    ['Mutation.onboardCustomer=5/1m/2', /not max\/window/],
    ['Mutation.onboardCustomer=5/500ms', /invalid window "500ms"/],
    ['Mutation.onboardCustomer=5/soon', /invalid window/],
    ['Mutation.onboardCustomer=5/1m,Mutation.onboardCustomer=6/1m', /listed twice/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseFieldBudgets(raw)).toThrow(message);
  });

  it('fails start-up with a message naming RATE_LIMIT_FIELDS', () => {
    expect(() => loadGatewayConfig({ RATE_LIMIT_FIELDS: 'Mutation.onboardCustomer=lots' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ RATE_LIMIT_FIELDS: 'Mutation.onboardCustomer=lots' })).toThrow(/RATE_LIMIT_FIELDS: Mutation\.onboardCustomer/);
  });

  it('accepts only whole-second windows in RATE_LIMIT_WINDOW', () => {
    expect(loadGatewayConfig({ RATE_LIMIT_WINDOW: '30s' }).rateLimit.windowMs).toBe(30_000);
    expect(() => loadGatewayConfig({ RATE_LIMIT_WINDOW: '1500ms' })).toThrow(/RATE_LIMIT_WINDOW: must be a whole number of seconds/);
  });

  it('reads every rate-limit and upstream-protection variable with its default', () => {
    const config = loadGatewayConfig({});
    expect(config.rateLimit).toEqual({
      enabled: true,
      max: 600,
      windowMs: 60_000,
      fields: parseFieldBudgets(undefined),
      onRedisError: 'open',
      maxSubscriptions: 20,
    });
    expect(config.upstreamProtection).toEqual({ maxConcurrency: 32, queueTimeoutMs: 5_000, retries: 2, retryMaxDelayMs: 5_000, breakerFailures: 5, breakerCooldownMs: 30_000 });
    expect(loadGatewayConfig({ RATE_LIMIT_ENABLED: 'false' }).rateLimit.enabled).toBe(false);
    expect(() => loadGatewayConfig({ RATE_LIMIT_ON_REDIS_ERROR: 'maybe' })).toThrow(/RATE_LIMIT_ON_REDIS_ERROR/);
    expect(() => loadGatewayConfig({ IOMETER_RETRIES: '-1' })).toThrow(/IOMETER_RETRIES/);
  });
});

describe('counting budgeted selections', () => {
  const schema = buildSchema(`
    type Query { provider: Provider node: Node other: String }
    interface Node { id: ID! }
    type Provider implements Node { id: ID! readings(limit: Int): Page! installation: Installation }
    type Installation { provider: Provider }
    type Page { cursor: String }
    type Mutation { onboardCustomer: String upsertCustomer: String }
  `);
  const counted = new Set(['Provider.readings', 'Mutation.onboardCustomer']);

  function count(source: string, operationName?: string) {
    const document = parse(source);
    const operation = getOperationAST(document, operationName)!;
    return Object.fromEntries(countSelections(schema, document, operation, (coordinate) => counted.has(coordinate)));
  }

  it('counts each selection, through aliases, nesting, inline fragments and spreads', () => {
    expect(count('{ provider { id readings { cursor } } }')).toEqual({ 'Provider.readings': 1 });
    expect(count('{ provider { a: readings { cursor } b: readings(limit: 5) { cursor } } }')).toEqual({ 'Provider.readings': 2 });
    expect(count('{ provider { installation { provider { readings { cursor } } } } }')).toEqual({ 'Provider.readings': 1 });
    expect(count('{ node { ... on Provider { readings { cursor } } } }')).toEqual({ 'Provider.readings': 1 });
    expect(count('{ provider { ...R ...R } } fragment R on Provider { readings { cursor } }')).toEqual({ 'Provider.readings': 2 });
    expect(count('mutation { onboardCustomer upsertCustomer x: onboardCustomer }')).toEqual({ 'Mutation.onboardCustomer': 2 });
    expect(count('{ other __typename }')).toEqual({});
  });

  it('walks only the operation being executed', () => {
    const document = 'query A { other } query B { provider { readings { cursor } } }';
    expect(count(document, 'A')).toEqual({});
    expect(count(document, 'B')).toEqual({ 'Provider.readings': 1 });
  });

  it('stays linear on nested fragment spreads', () => {
    const depth = 30;
    const fragments = Array.from({ length: depth }, (_, index) =>
      index === depth - 1
        ? `fragment F${index} on Provider { readings { cursor } }`
        : `fragment F${index} on Provider { ...F${index + 1} ...F${index + 1} }`,
    ).join('\n');
    const started = Date.now();
    expect(count(`{ provider { ...F0 } } ${fragments}`)).toEqual({ 'Provider.readings': 2 ** (depth - 1) });
    expect(Date.now() - started).toBeLessThan(500);
  });
});
