import { z } from 'zod';
import { parseTtlOverrides } from './cache/ttl';
import { parseApiKeys } from './identity/apiKeys';
import { MIN_JWT_SECRET_LENGTH } from './identity/jwt';
import { parseFieldBudgets } from './rateLimit/budgets';
import { DURATION, parseDuration } from './shared/duration';
import { parseCorsOrigins } from './transport/cors';

/**
 * The one place that reads process.env. Every module receives its settings from here,
 * so a bad value fails at start-up with the variable's name instead of deep inside a request.
 *
 * Each variable is declared once, where its setting sits in the config: `fromEnv(NAME, schema)`. The
 * config's type is the schema's output (GatewayConfig); modules declare the options they take.
 */

type Env = Record<string, string | undefined>;

/** A setting read from the environment variable `name`; the name travels with the schema, as its description. */
function fromEnv<T extends z.ZodTypeAny>(name: string, schema: T): T {
  return schema.describe(name);
}

/** The object schema under a schema's refinements and transforms, if it is one. */
function objectIn(schema: z.ZodTypeAny): z.AnyZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodEffects) return objectIn(schema.innerType());
  return undefined;
}

/** The environment's raw values, each where its variable's setting sits in `schema`. */
function valuesFor(schema: z.ZodTypeAny, env: Env): unknown {
  const object = objectIn(schema);
  if (!object) return schema.description === undefined ? undefined : env[schema.description];
  return Object.fromEntries(Object.entries(object.shape).map(([key, field]) => [key, valuesFor(field as z.ZodTypeAny, env)]));
}

/** The variable behind an issue's path (a setting, or a group a refinement named), for the message. */
function variableAt(schema: z.ZodTypeAny, path: ReadonlyArray<string | number>): string {
  let at: z.ZodTypeAny | undefined = schema;
  for (const key of path) at = at && objectIn(at)?.shape[key];
  return at?.description ?? (path.join('.') || '(env)');
}

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** A variable with a syntax of its own: the parser's error message becomes the variable's issue. */
function parsedBy<T>(parse: (value: string | undefined) => T) {
  return optionalString.transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
      return z.NEVER;
    }
  });
}

const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL');
const wsUrl = z
  .string()
  .url()
  .refine((value) => /^wss?:\/\//.test(value), 'must be a ws:// or wss:// URL');

const durationMs = z
  .string()
  .regex(DURATION, 'must be a duration such as 500ms, 2s, 5m, 1h or 1d')
  .transform(parseDuration);

/**
 * Intl and PostgreSQL both use the IANA database, so a name Intl rejects would fail every consumption
 * query. Numeric offsets are refused: PostgreSQL reads `+01:00` as POSIX, i.e. with the sign inverted.
 */
function isIanaTimeZone(value: string): boolean {
  if (!/^[A-Za-z]/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** `true` or `false`. */
const flag = (byDefault: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(byDefault)
    .transform((value) => value === 'true');

const gatewaySchema = z
  .object({
    port: fromEnv('PORT', port.default(4000)),
    host: fromEnv('HOST', z.string().default('0.0.0.0')),
    /** GraphiQL on the GraphQL path: on in sandbox mode, off outside it unless `true` (see the transform below). */
    graphiql: fromEnv('GRAPHIQL', z.enum(['true', 'false']).optional()),
    logLevel: fromEnv('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
    /** Browser origins allowed to call from elsewhere; default by mode (see the transform below). */
    corsOrigins: fromEnv('CORS_ORIGINS', parsedBy(parseCorsOrigins)),
    /** The IOmeter the gateway fronts; without an endpoint, sandbox mode (see the transform below). */
    upstream: z.object({
      endpoint: fromEnv('IOMETER_ENDPOINT', optionalString.pipe(httpUrl.optional())),
      /** Derived from the endpoint when unset. */
      wsEndpoint: fromEnv('IOMETER_WS_ENDPOINT', optionalString.pipe(wsUrl.optional())),
      token: fromEnv('IOMETER_TOKEN', optionalString),
      secret: fromEnv('IOMETER_SECRET', optionalString),
      timeoutMs: fromEnv('IOMETER_TIMEOUT', durationMs.default('10s')),
    }),
    /** What createRegistrationToken uses when a request names no pool or key (src/customers/onboarding.ts). */
    registrationDefaults: z.object({
      licensePoolId: fromEnv('IOMETER_DEFAULT_LICENSE_POOL_ID', optionalString.pipe(z.string().uuid().optional())),
      signingKeyId: fromEnv('IOMETER_DEFAULT_SIGNING_KEY_ID', optionalString.pipe(z.string().uuid().optional())),
    }),
    /** The live-readings multiplexer (src/subscriptions/). */
    subscriptions: z.object({
      graceMs: fromEnv('SUBSCRIPTION_GRACE', durationMs.default('5s')),
      retryBudgetMs: fromEnv('SUBSCRIPTION_RETRY_BUDGET', durationMs.default('10s')),
      bufferSize: fromEnv('SUBSCRIPTION_BUFFER', z.coerce.number().int().min(10).default(1000)),
      resumeBufferSize: fromEnv('SUBSCRIPTION_RESUME_BUFFER', z.coerce.number().int().min(0).default(20_000)),
      resumeWindowMs: fromEnv('SUBSCRIPTION_RESUME_WINDOW', durationMs.default('5m')),
      lookupTtlMs: fromEnv('SUBSCRIPTION_LOOKUP_TTL', durationMs.default('10s')),
      clientKeepAliveMs: fromEnv(
        'SUBSCRIPTION_CLIENT_KEEPALIVE',
        durationMs.pipe(z.number().min(100, 'must be at least 100ms')).default('15s'),
      ),
    }),
    database: z.object({
      url: fromEnv(
        'DATABASE_URL',
        optionalString.pipe(
          z
            .string()
            .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
            .optional(),
        ),
      ),
      embeddedDir: fromEnv('EMBEDDED_DB_DIR', z.string().default('./data/pglite')),
    }),
    auth: z.object({
      jwtSecret: fromEnv(
        'AUTH_JWT_SECRET',
        optionalString.pipe(z.string().min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`).optional()),
      ),
      jwksUrl: fromEnv('AUTH_JWKS_URL', optionalString.pipe(httpUrl.optional())),
      issuer: fromEnv('AUTH_JWT_ISSUER', optionalString),
      audience: fromEnv('AUTH_JWT_AUDIENCE', optionalString),
      roleClaim: fromEnv('AUTH_ROLE_CLAIM', z.string().min(1).default('role')),
      externalIdClaim: fromEnv('AUTH_EXTERNAL_ID_CLAIM', z.string().min(1).default('externalId')),
      apiKeys: fromEnv('AUTH_API_KEYS', parsedBy(parseApiKeys)),
      /** Customers may introspect the schema (and so use GraphiQL). */
      customerIntrospection: fromEnv('CUSTOMER_INTROSPECTION', flag('false')),
      /** Trusted documents: customers may only run these operations, sent by hash. */
      persistedOperationsFile: fromEnv('PERSISTED_OPERATIONS_FILE', optionalString),
    }),
    limits: z.object({
      maxDepth: fromEnv('LIMIT_MAX_DEPTH', z.coerce.number().int().min(1).default(12)),
      maxAliases: fromEnv('LIMIT_MAX_ALIASES', z.coerce.number().int().min(0).default(20)),
      maxTokens: fromEnv('LIMIT_MAX_TOKENS', z.coerce.number().int().min(1).default(5000)),
      maxCost: fromEnv('LIMIT_MAX_COST', z.coerce.number().int().min(1).default(5000)),
      maxDocumentBytes: fromEnv('LIMIT_MAX_DOCUMENT_BYTES', z.coerce.number().int().min(1).default(32_768)),
      maxBatch: fromEnv('LIMIT_MAX_BATCH', z.coerce.number().int().min(1).default(10)),
    }),
    /** Operation plans (src/queryPlans/): how many are kept; 0 sends every operation through Mesh's delegation. */
    queryPlans: z.object({
      maxPlans: fromEnv('QUERY_PLAN_CACHE_SIZE', z.coerce.number().int().min(0).default(1000)),
    }),
    redis: z.object({
      url: fromEnv(
        'REDIS_URL',
        optionalString.pipe(
          z
            .string()
            .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
            .optional(),
        ),
      ),
      keyPrefix: fromEnv('REDIS_KEY_PREFIX', z.string().min(1).default('iometer-gateway:')),
    }),
    cache: z.object({
      /** Default TTL in ms; 0 disables the response cache. */
      ttlMs: fromEnv('CACHE_TTL', durationMs.default('30s')),
      /** TTL in ms per schema coordinate, applied over the built-in table (src/cache/ttl.ts). */
      overrides: fromEnv('CACHE_TTL_OVERRIDES', parsedBy(parseTtlOverrides)),
    }),
    rateLimit: z.object({
      enabled: fromEnv('RATE_LIMIT_ENABLED', flag('true')),
      max: fromEnv('RATE_LIMIT_MAX', z.coerce.number().int().min(1).default(600)),
      windowMs: fromEnv(
        'RATE_LIMIT_WINDOW',
        durationMs.default('1m').refine((ms) => ms >= 1_000 && ms % 1_000 === 0, 'must be a whole number of seconds, at least 1s'),
      ),
      /** The default field budgets merged with RATE_LIMIT_FIELDS. */
      fields: fromEnv('RATE_LIMIT_FIELDS', parsedBy(parseFieldBudgets)),
      onRedisError: fromEnv('RATE_LIMIT_ON_REDIS_ERROR', z.enum(['open', 'closed']).default('open')),
      maxSubscriptions: fromEnv('RATE_LIMIT_MAX_SUBSCRIPTIONS', z.coerce.number().int().min(1).default(20)),
      /** How long a dead replica's subscription slots stay taken (renewed every third of it while alive). */
      subscriptionLeaseMs: fromEnv('RATE_LIMIT_SUBSCRIPTION_LEASE', durationMs.default('30s').refine((ms) => ms >= 1_000, 'must be at least 1s')),
    }),
    /** How the gateway spares IOmeter (src/upstream/executor.ts). */
    upstreamProtection: z.object({
      maxConcurrency: fromEnv('IOMETER_MAX_CONCURRENCY', z.coerce.number().int().min(1).default(32)),
      queueTimeoutMs: fromEnv('IOMETER_QUEUE_TIMEOUT', durationMs.default('5s')),
      retries: fromEnv('IOMETER_RETRIES', z.coerce.number().int().min(0).max(10).default(2)),
      retryMaxDelayMs: fromEnv('IOMETER_RETRY_MAX_DELAY', durationMs.default('5s')),
      breakerFailures: fromEnv('IOMETER_BREAKER_FAILURES', z.coerce.number().int().min(1).default(5)),
      breakerCooldownMs: fromEnv('IOMETER_BREAKER_COOLDOWN', durationMs.default('30s')),
      maxResponseBytes: fromEnv('IOMETER_MAX_RESPONSE_BYTES', z.coerce.number().int().min(1_024).default(8 * 1_024 * 1_024)),
    }),
    /** Response compression (src/plugins/useCompression.ts): smaller bodies stay plain. */
    compression: z.object({
      thresholdBytes: fromEnv('COMPRESSION_THRESHOLD', z.coerce.number().int().min(0).default(1024)),
    }),
    /** Consumption buckets (days, months, tariff days) follow this zone's calendar. */
    consumption: z.object({
      timeZone: fromEnv(
        'CONSUMPTION_TIME_ZONE',
        z.string().default('Europe/Berlin').refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
      ),
    }),
    /** The reading archive (src/archive/): every upstream reading kept in PostgreSQL. */
    archive: z.object({
      enabled: fromEnv('ARCHIVE_ENABLED', flag('true')),
      retentionMs: fromEnv(
        'ARCHIVE_RETENTION',
        durationMs.default('400d').refine((ms) => ms >= 86_400_000, 'must be at least 1d (IOmeter itself keeps 24h)'),
      ),
      batchSize: fromEnv('ARCHIVE_BATCH_SIZE', z.coerce.number().int().min(1).max(50_000).default(5_000)),
      flushIntervalMs: fromEnv('ARCHIVE_FLUSH_INTERVAL', durationMs.default('1s').refine((ms) => ms >= 10, 'must be at least 10ms')),
    }),
    alerts: z.object({
      enabled: fromEnv('USAGE_ALERTS_ENABLED', flag('true')),
      webhookUrl: fromEnv('ALERT_WEBHOOK_URL', optionalString.pipe(httpUrl.optional())),
      webhookSecret: fromEnv('ALERT_WEBHOOK_SECRET', optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional())),
      webhookRetryDelayMs: fromEnv('ALERT_WEBHOOK_RETRY_DELAY', durationMs.default('1s').refine((ms) => ms >= 10, 'must be at least 10ms')),
    }),
    metrics: z.object({
      /** If set, /metrics requires `Authorization: Bearer <token>`. */
      token: fromEnv('METRICS_TOKEN', optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional())),
      /** If set, /metrics is served on this port only, not on the GraphQL port. */
      port: fromEnv('METRICS_PORT', optionalString.pipe(port.optional())),
    }),
    /** On SIGTERM: how long in-flight requests may take to finish before connections are cut. */
    shutdownTimeoutMs: fromEnv('SHUTDOWN_TIMEOUT', durationMs.default('10s')),
    /**
     * How long an idle keep-alive connection stays open. Longer than the idle timeout of the load
     * balancer in front (60 s on common ones): a gateway that closes first races the balancer's next
     * request on that connection, which the client sees as a 502 or a reset.
     */
    keepAliveTimeoutMs: fromEnv(
      'HTTP_KEEPALIVE_TIMEOUT',
      durationMs.default('65s').refine((ms) => ms >= 1_000, 'must be at least 1s'),
    ),
    /**
     * Slow clients: how long the request's headers, and the whole request (headers and body), may take
     * to arrive. Node's defaults (about a minute, 5 minutes) let a client hold a connection that long
     * with a trickle of bytes. Neither applies to an idle keep-alive connection or to a response
     * stream (SSE), only to receiving a request.
     */
    headersTimeoutMs: fromEnv('HTTP_HEADERS_TIMEOUT', durationMs.default('10s').refine((ms) => ms >= 1_000, 'must be at least 1s')),
    requestTimeoutMs: fromEnv('HTTP_REQUEST_TIMEOUT', durationMs.default('30s').refine((ms) => ms >= 1_000, 'must be at least 1s')),
    /** OpenTelemetry traces go to this OTLP/HTTP collector; without an endpoint, no tracing. */
    tracing: z.object({
      endpoint: fromEnv('OTEL_EXPORTER_OTLP_ENDPOINT', optionalString.pipe(httpUrl.optional())),
      serviceName: fromEnv('OTEL_SERVICE_NAME', z.string().min(1).default('iometer-gateway')),
    }),
  })
  .superRefine(({ upstream, auth, alerts, headersTimeoutMs, requestTimeoutMs }, ctx) => {
    if (alerts.webhookUrl && !alerts.webhookSecret) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['alerts', 'webhookSecret'], message: 'is required when ALERT_WEBHOOK_URL is set (alerts are signed with it)' });
    }
    if (headersTimeoutMs > requestTimeoutMs) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['headersTimeoutMs'], message: 'must not be longer than HTTP_REQUEST_TIMEOUT' });
    }
    if (!upstream.endpoint) return;
    if (!auth.jwtSecret && !auth.jwksUrl && auth.apiKeys.length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['auth', 'jwtSecret'],
        message:
          'client authentication is required outside sandbox mode: set AUTH_JWT_SECRET (HS256), AUTH_JWKS_URL (RS256/ES256) and/or AUTH_API_KEYS',
      });
    }
    for (const setting of ['token', 'secret'] as const) {
      if (!upstream[setting]) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['upstream', setting], message: 'is required when IOMETER_ENDPOINT is set' });
      }
    }
  })
  .transform(({ upstream: { endpoint, wsEndpoint, token, secret, timeoutMs }, tracing, graphiql, corsOrigins, ...config }) => ({
    ...config,
    /** Sandbox mode serves any origin; outside it, only the gateway's own (GraphiQL) unless CORS_ORIGINS lists more. */
    corsOrigins: corsOrigins ?? (endpoint ? [] : ('*' as const)),
    /** GraphiQL's page is served in sandbox mode unless GRAPHIQL=false, and outside it only with GRAPHIQL=true. */
    graphiql: graphiql === undefined ? !endpoint : graphiql === 'true',
    /** Undefined in sandbox mode: main then starts the simulator in-process and fronts that instead. */
    upstream: endpoint
      ? { endpoint, wsEndpoint: wsEndpoint ?? deriveWsEndpoint(endpoint), token: token as string, secret: secret as string, timeoutMs }
      : undefined,
    /**
     * Set in sandbox mode (no IOMETER_ENDPOINT): anonymous callers act as staff, and the simulator
     * main starts in IOmeter's place is reached with IOMETER_TIMEOUT like IOmeter would be.
     */
    sandbox: endpoint ? undefined : { simulatorTimeoutMs: timeoutMs },
    tracing: tracing.endpoint ? { endpoint: tracing.endpoint, serviceName: tracing.serviceName } : undefined,
  }));

export type GatewayConfig = z.output<typeof gatewaySchema>;
/** The IOmeter the gateway fronts: endpoints, credentials and the bound on every request. */
export type UpstreamConfig = NonNullable<GatewayConfig['upstream']>;

const simulatorSchema = z.object({
  port: fromEnv('SIMULATOR_PORT', port.default(4100)),
  host: fromEnv('SIMULATOR_HOST', z.string().default('127.0.0.1')),
  seed: fromEnv('SIMULATOR_SEED', z.coerce.number().int().default(1)),
  installations: fromEnv('SIMULATOR_INSTALLATIONS', z.coerce.number().int().min(1).max(100_000).default(25)),
  readingIntervalMs: fromEnv('SIMULATOR_READING_INTERVAL', durationMs.default('2s')),
  /** `spread`: each meter at its own phase of the interval; `aligned`: every meter at once, received 50 ms later (deterministic ticks for benchmarks). */
  readingSchedule: fromEnv('SIMULATOR_READING_SCHEDULE', z.enum(['spread', 'aligned']).default('spread')),
  duplicateRate: fromEnv('SIMULATOR_DUPLICATE_RATE', z.coerce.number().min(0).max(1).default(0)),
  historyMs: fromEnv('SIMULATOR_HISTORY', durationMs.default('15m')),
  token: fromEnv('SIMULATOR_TOKEN', z.string().min(1).default('sandbox-token')),
  secret: fromEnv('SIMULATOR_SECRET', z.string().min(1).default('sandbox-secret')),
});

export type SimulatorConfig = z.output<typeof simulatorSchema>;

export class ConfigError extends Error {
  constructor(issues: ReadonlyArray<{ variable: string; message: string }>) {
    super('Invalid configuration:\n' + issues.map((issue) => `  ${issue.variable}: ${issue.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

function parseEnv<T extends z.ZodTypeAny>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(valuesFor(schema, env));
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => ({ variable: variableAt(schema, issue.path), message: issue.message })));
  }
  return result.data;
}

export function deriveWsEndpoint(httpEndpoint: string): string {
  return httpEndpoint.replace(/^http/, 'ws');
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return parseEnv(gatewaySchema, env);
}

export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  return parseEnv(simulatorSchema, env);
}
