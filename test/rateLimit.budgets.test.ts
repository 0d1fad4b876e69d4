import { ConfigError, loadGatewayConfig } from '../src/config';
import { DEFAULT_FIELD_BUDGETS, parseFieldBudgets } from '../src/rateLimit/budgets';

describe('RATE_LIMIT_FIELDS', () => {
  it('defaults to tight budgets for the IOmeter-owned fields that change its state or fetch readings pages', () => {
    expect(Object.fromEntries(parseFieldBudgets(undefined))).toEqual({
      'Mutation.createRegistrationToken': { max: 10, windowMs: 60_000 },
      'Mutation.updateLicense': { max: 30, windowMs: 60_000 },
      'IometerProvider.readings': { max: 60, windowMs: 60_000 },
    });
  });

  it('overrides, adds and switches off budgets', () => {
    const budgets = parseFieldBudgets(' Mutation.createRegistrationToken=5/1m, IometerProvider.readings=120/30s,Query.customers=100/1h,Mutation.updateLicense=off');
    expect(budgets.get('Mutation.createRegistrationToken')).toEqual({ max: 5, windowMs: 60_000 });
    expect(budgets.get('IometerProvider.readings')).toEqual({ max: 120, windowMs: 30_000 });
    expect(budgets.get('Query.customers')).toEqual({ max: 100, windowMs: 3_600_000 });
    expect(budgets.get('Mutation.updateLicense')).toBe('off');
    expect(parseFieldBudgets('Query.customers=1/1s').get('Mutation.updateLicense')).toEqual(DEFAULT_FIELD_BUDGETS['Mutation.updateLicense']);
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
      subscriptionLeaseMs: 30_000,
    });
    expect(config.upstreamProtection).toEqual({ maxConcurrency: 32, queueTimeoutMs: 5_000, retries: 2, retryMaxDelayMs: 5_000, breakerFailures: 5, breakerCooldownMs: 30_000, maxResponseBytes: 8_388_608 });
    expect(loadGatewayConfig({ RATE_LIMIT_ENABLED: 'false' }).rateLimit.enabled).toBe(false);
    expect(() => loadGatewayConfig({ RATE_LIMIT_ON_REDIS_ERROR: 'maybe' })).toThrow(/RATE_LIMIT_ON_REDIS_ERROR/);
    expect(() => loadGatewayConfig({ IOMETER_RETRIES: '-1' })).toThrow(/IOMETER_RETRIES/);
  });
});
