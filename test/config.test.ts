import { ConfigError, loadGatewayConfig, loadSimulatorConfig } from '../src/config';

function configError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway configuration', () => {
  it('defaults to sandbox mode on port 4000', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(4000);
    expect(config.upstream).toBeUndefined();
    expect(config.database).toEqual({ url: undefined, embeddedDir: './data/pglite' });
    expect(config.consumption).toEqual({ timeZone: 'Europe/Berlin' });
  });

  it('fronts a real upstream when endpoint, token and secret are set, deriving the WebSocket endpoint', () => {
    const config = loadGatewayConfig({
      IOMETER_ENDPOINT: 'https://provider-api.example/v1/query',
      IOMETER_TOKEN: 't',
      IOMETER_SECRET: 's',
      IOMETER_TIMEOUT: '2s',
      AUTH_JWT_SECRET: 'x'.repeat(32),
    });
    expect(config.upstream).toEqual({
      endpoint: 'https://provider-api.example/v1/query',
      wsEndpoint: 'wss://provider-api.example/v1/query',
      token: 't',
      secret: 's',
      timeoutMs: 2000,
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ IOMETER_ENDPOINT: 'not a url' }, 'IOMETER_ENDPOINT'],
    [{ IOMETER_ENDPOINT: 'ftp://x/y', IOMETER_TOKEN: 't', IOMETER_SECRET: 's' }, 'IOMETER_ENDPOINT'],
    [{ IOMETER_ENDPOINT: 'https://x/v1/query', IOMETER_SECRET: 's' }, 'IOMETER_TOKEN'],
    [{ IOMETER_ENDPOINT: 'https://x/v1/query', IOMETER_TOKEN: 't' }, 'IOMETER_SECRET'],
    [{ IOMETER_WS_ENDPOINT: 'http://x' }, 'IOMETER_WS_ENDPOINT'],
    [{ IOMETER_TIMEOUT: 'soon' }, 'IOMETER_TIMEOUT'],
    [{ IOMETER_DEFAULT_LICENSE_POOL_ID: 'pool-1' }, 'IOMETER_DEFAULT_LICENSE_POOL_ID'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ IOMETER_ENDPOINT: 'https://x/v1/query', IOMETER_TOKEN: 't', IOMETER_SECRET: 's' }, 'AUTH_JWT_SECRET'],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET'],
    [{ AUTH_JWKS_URL: 'not-a-url' }, 'AUTH_JWKS_URL'],
    [{ AUTH_API_KEYS: 'svc:admin:abc' }, 'AUTH_API_KEYS'],
    [{ LIMIT_MAX_DEPTH: '0' }, 'LIMIT_MAX_DEPTH'],
    [{ CUSTOMER_INTROSPECTION: 'yes' }, 'CUSTOMER_INTROSPECTION'],
    [{ CONSUMPTION_TIME_ZONE: 'Mars/Olympus_Mons' }, 'CONSUMPTION_TIME_ZONE'],
    [{ CONSUMPTION_TIME_ZONE: '+01:00' }, 'CONSUMPTION_TIME_ZONE'],
    [{ ARCHIVE_ENABLED: 'yes' }, 'ARCHIVE_ENABLED'],
    [{ ARCHIVE_RETENTION: '12h' }, 'ARCHIVE_RETENTION'],
    [{ ARCHIVE_RETENTION: 'forever' }, 'ARCHIVE_RETENTION'],
    [{ ARCHIVE_BATCH_SIZE: '0' }, 'ARCHIVE_BATCH_SIZE'],
    [{ ARCHIVE_FLUSH_INTERVAL: '1ms' }, 'ARCHIVE_FLUSH_INTERVAL'],
    [{ HTTP_KEEPALIVE_TIMEOUT: '500ms' }, 'HTTP_KEEPALIVE_TIMEOUT'],
    [{ HTTP_KEEPALIVE_TIMEOUT: 'never' }, 'HTTP_KEEPALIVE_TIMEOUT'],
    [{ HTTP_HEADERS_TIMEOUT: '100ms' }, 'HTTP_HEADERS_TIMEOUT'],
    [{ HTTP_HEADERS_TIMEOUT: '40s' }, 'HTTP_HEADERS_TIMEOUT'],
    [{ HTTP_REQUEST_TIMEOUT: 'slow' }, 'HTTP_REQUEST_TIMEOUT'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(configError(() => loadGatewayConfig(env))).toContain(variable);
  });

  it('archives by default, keeping 400 days, in batches of 5000 or every second', () => {
    expect(loadGatewayConfig({}).archive).toEqual({ enabled: true, retentionMs: 400 * 86_400_000, batchSize: 5000, flushIntervalMs: 1000 });
    expect(loadGatewayConfig({ ARCHIVE_ENABLED: 'false', ARCHIVE_RETENTION: '30d' }).archive).toMatchObject({
      enabled: false,
      retentionMs: 30 * 86_400_000,
    });
  });

  it('never echoes the secret in a config error', () => {
    const message = configError(() => loadGatewayConfig({ IOMETER_ENDPOINT: 'nope', IOMETER_TOKEN: 't', IOMETER_SECRET: 'hunter2' }));
    expect(message).not.toContain('hunter2');
  });
});

describe('simulator configuration', () => {
  it('has the documented defaults', () => {
    expect(loadSimulatorConfig({})).toMatchObject({ seed: 1, installations: 25, readingIntervalMs: 2000, readingSchedule: 'spread', duplicateRate: 0 });
  });

  it.each([
    [{ SIMULATOR_DUPLICATE_RATE: '2' }, 'SIMULATOR_DUPLICATE_RATE'],
    [{ SIMULATOR_READING_INTERVAL: 'fast' }, 'SIMULATOR_READING_INTERVAL'],
    [{ SIMULATOR_SEED: 'x' }, 'SIMULATOR_SEED'],
    [{ SIMULATOR_READING_SCHEDULE: 'random' }, 'SIMULATOR_READING_SCHEDULE'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(configError(() => loadSimulatorConfig(env))).toContain(variable);
  });
});

describe('CORS_ORIGINS', () => {
  const outside = { IOMETER_ENDPOINT: 'https://provider-api.example/v1/query', IOMETER_TOKEN: 't', IOMETER_SECRET: 's', AUTH_JWT_SECRET: 'x'.repeat(32) };

  it('defaults to any origin in sandbox mode and to none but the gateway own outside it', () => {
    expect(loadGatewayConfig({}).corsOrigins).toBe('*');
    expect(loadGatewayConfig(outside).corsOrigins).toEqual([]);
  });

  it('takes comma-separated origins', () => {
    expect(loadGatewayConfig({ ...outside, CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
  });

  it.each(['null', 'https://a.example/', 'https://a.example/app', 'a.example', 'ftp://a.example'])('refuses %s, naming the variable', (value) => {
    expect(configError(() => loadGatewayConfig({ ...outside, CORS_ORIGINS: value }))).toMatch(/CORS_ORIGINS: .* is not an origin/);
  });
});
