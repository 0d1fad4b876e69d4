import { z } from 'zod';
import { parseApiKeys, type ApiKeyEntry } from './identity/apiKeys';
import { MIN_JWT_SECRET_LENGTH, type JwtOptions } from './identity/jwt';
import { parseFieldBudgets, type FieldBudgets } from './rateLimit/budgets';
import { parseTtlOverrides, type TtlTable } from './cache/ttl';
import { DURATION, parseDuration } from './shared/duration';

/**
 * The one place that reads process.env. Every module receives its settings from here,
 * so a bad value fails at start-up with the variable's name instead of deep inside a request.
 */

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

const gatewayEnv = z
  .object({
    PORT: port.default(4000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    IOMETER_ENDPOINT: optionalString.pipe(httpUrl.optional()),
    IOMETER_WS_ENDPOINT: optionalString.pipe(wsUrl.optional()),
    IOMETER_TOKEN: optionalString,
    IOMETER_SECRET: optionalString,
    IOMETER_TIMEOUT: durationMs.default('10s'),
    IOMETER_DEFAULT_LICENSE_POOL_ID: optionalString.pipe(z.string().uuid().optional()),
    IOMETER_DEFAULT_SIGNING_KEY_ID: optionalString.pipe(z.string().uuid().optional()),
    SUBSCRIPTION_GRACE: durationMs.default('5s'),
    SUBSCRIPTION_RETRY_BUDGET: durationMs.default('10s'),
    SUBSCRIPTION_BUFFER: z.coerce.number().int().min(10).default(1000),
    SUBSCRIPTION_RESUME_BUFFER: z.coerce.number().int().min(0).default(20_000),
    SUBSCRIPTION_RESUME_WINDOW: durationMs.default('5m'),
    SUBSCRIPTION_LOOKUP_TTL: durationMs.default('10s'),
    SUBSCRIPTION_CLIENT_KEEPALIVE: durationMs.pipe(z.number().min(100, 'must be at least 100ms')).default('15s'),
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    EMBEDDED_DB_DIR: z.string().default('./data/pglite'),
    AUTH_JWT_SECRET: optionalString.pipe(
      z.string().min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`).optional(),
    ),
    AUTH_JWKS_URL: optionalString.pipe(httpUrl.optional()),
    AUTH_JWT_ISSUER: optionalString,
    AUTH_JWT_AUDIENCE: optionalString,
    AUTH_ROLE_CLAIM: z.string().min(1).default('role'),
    AUTH_EXTERNAL_ID_CLAIM: z.string().min(1).default('externalId'),
    AUTH_API_KEYS: parsedBy(parseApiKeys),
    CUSTOMER_INTROSPECTION: z.enum(['true', 'false']).default('false'),
    PERSISTED_OPERATIONS_FILE: optionalString,
    LIMIT_MAX_DEPTH: z.coerce.number().int().min(1).default(12),
    LIMIT_MAX_ALIASES: z.coerce.number().int().min(0).default(20),
    LIMIT_MAX_TOKENS: z.coerce.number().int().min(1).default(5000),
    LIMIT_MAX_COST: z.coerce.number().int().min(1).default(5000),
    LIMIT_MAX_DOCUMENT_BYTES: z.coerce.number().int().min(1).default(32_768),
    LIMIT_MAX_BATCH: z.coerce.number().int().min(1).default(10),
    REDIS_URL: optionalString.pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional(),
    ),
    REDIS_KEY_PREFIX: z.string().min(1).default('iometer-gateway:'),
    CACHE_TTL: durationMs.default('30s'),
    CACHE_TTL_OVERRIDES: parsedBy(parseTtlOverrides),
    RATE_LIMIT_ENABLED: z.enum(['true', 'false']).default('true'),
    RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
    RATE_LIMIT_WINDOW: durationMs
      .default('1m')
      .refine((ms) => ms >= 1_000 && ms % 1_000 === 0, 'must be a whole number of seconds, at least 1s'),
    RATE_LIMIT_FIELDS: parsedBy(parseFieldBudgets),
    RATE_LIMIT_ON_REDIS_ERROR: z.enum(['open', 'closed']).default('open'),
    RATE_LIMIT_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).default(20),
    IOMETER_MAX_CONCURRENCY: z.coerce.number().int().min(1).default(32),
    IOMETER_QUEUE_TIMEOUT: durationMs.default('5s'),
    IOMETER_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    IOMETER_RETRY_MAX_DELAY: durationMs.default('5s'),
    CONSUMPTION_TIME_ZONE: z.string().default('Europe/Berlin').refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
    ARCHIVE_ENABLED: z.enum(['true', 'false']).default('true'),
    ARCHIVE_RETENTION: durationMs.default('400d').refine((ms) => ms >= 86_400_000, 'must be at least 1d (IOmeter itself keeps 24h)'),
    ARCHIVE_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(5_000),
    ARCHIVE_FLUSH_INTERVAL: durationMs.default('1s').refine((ms) => ms >= 10, 'must be at least 10ms'),
    IOMETER_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
    IOMETER_BREAKER_COOLDOWN: durationMs.default('30s'),
    METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    METRICS_PORT: optionalString.pipe(port.optional()),
    SHUTDOWN_TIMEOUT: durationMs.default('10s'),
    HTTP_KEEPALIVE_TIMEOUT: durationMs.default('65s').refine((ms) => ms >= 1_000, 'must be at least 1s'),
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(httpUrl.optional()),
    OTEL_SERVICE_NAME: z.string().min(1).default('iometer-gateway'),
  })
  .superRefine((env, ctx) => {
    if (!env.IOMETER_ENDPOINT) return;
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL && env.AUTH_API_KEYS.length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['AUTH_JWT_SECRET'],
        message:
          'client authentication is required outside sandbox mode: set AUTH_JWT_SECRET (HS256), AUTH_JWKS_URL (RS256/ES256) and/or AUTH_API_KEYS',
      });
    }
    for (const name of ['IOMETER_TOKEN', 'IOMETER_SECRET'] as const) {
      if (!env[name]) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [name],
          message: 'is required when IOMETER_ENDPOINT is set',
        });
      }
    }
  });

const simulatorEnv = z.object({
  SIMULATOR_PORT: port.default(4100),
  SIMULATOR_HOST: z.string().default('127.0.0.1'),
  SIMULATOR_SEED: z.coerce.number().int().default(1),
  SIMULATOR_INSTALLATIONS: z.coerce.number().int().min(1).max(100_000).default(25),
  SIMULATOR_READING_INTERVAL: durationMs.default('2s'),
  SIMULATOR_DUPLICATE_RATE: z.coerce.number().min(0).max(1).default(0),
  SIMULATOR_HISTORY: durationMs.default('15m'),
  SIMULATOR_TOKEN: z.string().min(1).default('sandbox-token'),
  SIMULATOR_SECRET: z.string().min(1).default('sandbox-secret'),
});

export class ConfigError extends Error {
  constructor(issues: z.ZodIssue[]) {
    super(
      'Invalid configuration:\n' +
        issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function parseEnv<T extends z.ZodTypeAny>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues);
  return result.data;
}

export interface UpstreamConfig {
  endpoint: string;
  wsEndpoint: string;
  token: string;
  secret: string;
  timeoutMs: number;
}

export interface GatewayConfig {
  port: number;
  host: string;
  logLevel: z.output<typeof gatewayEnv>['LOG_LEVEL'];
  /** Undefined in sandbox mode: the simulator is started in-process and fills this in. */
  upstream?: UpstreamConfig;
  upstreamTimeoutMs: number;
  defaultLicensePoolId?: string;
  defaultSigningKeyId?: string;
  /** The live-readings multiplexer (src/subscriptions/). */
  subscriptions: { graceMs: number; retryBudgetMs: number; bufferSize: number; resumeBufferSize: number; resumeWindowMs: number; clientKeepAliveMs: number; lookupTtlMs: number };
  database: { url?: string; embeddedDir: string };
  auth: JwtOptions & {
    apiKeys: ApiKeyEntry[];
    /** Customers may introspect the schema (and so use GraphiQL). */
    customerIntrospection: boolean;
    /** Trusted documents: customers may only run these operations, sent by hash. */
    persistedOperationsFile?: string;
  };
  redis: { url?: string; keyPrefix: string };
  cache: {
    /** Default TTL in ms; 0 disables the response cache. */
    ttlMs: number;
    /** CACHE_TTL_OVERRIDES: TTL in ms per schema coordinate, applied over the built-in table (src/cache/ttl.ts). */
    overrides: TtlTable;
  };
  rateLimit: {
    /** RATE_LIMIT_ENABLED=false switches every rate limit off (benchmarks, a trusted internal deployment). */
    enabled: boolean;
    /** Operations per client and window (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW). */
    max: number;
    windowMs: number;
    /** Per-field budgets: the defaults merged with RATE_LIMIT_FIELDS. */
    fields: FieldBudgets;
    onRedisError: 'open' | 'closed';
    /** Concurrent subscriptions per client. */
    maxSubscriptions: number;
  };
  /** How the gateway spares IOmeter: concurrency cap, queueing and retries of idempotent requests. */
  upstreamProtection: {
    /** Concurrent HTTP requests to IOmeter; more wait in a queue. */
    maxConcurrency: number;
    /** Longest wait for a free slot before UPSTREAM_UNAVAILABLE. */
    queueTimeoutMs: number;
    /** Retries of a query after IOmeter answered 429/503; mutations are never retried. */
    retries: number;
    /** Longest back-off (including a Retry-After) the gateway waits before a retry. */
    retryMaxDelayMs: number;
    /** Consecutive upstream outages (network error, timeout, 5xx) that open the circuit breaker. */
    breakerFailures: number;
    /** How long an open circuit fails fast before one probe request may try IOmeter again. */
    breakerCooldownMs: number;
  };
  /** Consumption buckets (days, months, tariff days) follow this zone's calendar. */
  consumption: { timeZone: string };
  /** The reading archive (src/archive/): every upstream reading kept in PostgreSQL. */
  archive: { enabled: boolean; retentionMs: number; batchSize: number; flushIntervalMs: number };
  metrics: {
    /** If set, /metrics requires `Authorization: Bearer <token>`. */
    token?: string;
    /** If set, /metrics is served on this port only, not on the GraphQL port. */
    port?: number;
  };
  /** On SIGTERM: how long in-flight requests may take to finish before connections are cut. */
  shutdownTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open. Longer than the idle timeout of the load
   * balancer in front (60 s on common ones): a gateway that closes first races the balancer's next
   * request on that connection, which the client sees as a 502 or a reset.
   */
  keepAliveTimeoutMs: number;
  /** OpenTelemetry traces go to this OTLP/HTTP collector; undefined: no tracing. */
  tracing?: { endpoint: string; serviceName: string };
  limits: {
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxCost: number;
    maxDocumentBytes: number;
    maxBatch: number;
  };
}

export function deriveWsEndpoint(httpEndpoint: string): string {
  return httpEndpoint.replace(/^http/, 'ws');
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const parsed = parseEnv(gatewayEnv, env);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    logLevel: parsed.LOG_LEVEL,
    upstream: parsed.IOMETER_ENDPOINT
      ? {
          endpoint: parsed.IOMETER_ENDPOINT,
          wsEndpoint: parsed.IOMETER_WS_ENDPOINT ?? deriveWsEndpoint(parsed.IOMETER_ENDPOINT),
          token: parsed.IOMETER_TOKEN as string,
          secret: parsed.IOMETER_SECRET as string,
          timeoutMs: parsed.IOMETER_TIMEOUT,
        }
      : undefined,
    upstreamTimeoutMs: parsed.IOMETER_TIMEOUT,
    defaultLicensePoolId: parsed.IOMETER_DEFAULT_LICENSE_POOL_ID,
    defaultSigningKeyId: parsed.IOMETER_DEFAULT_SIGNING_KEY_ID,
    subscriptions: {
      graceMs: parsed.SUBSCRIPTION_GRACE,
      retryBudgetMs: parsed.SUBSCRIPTION_RETRY_BUDGET,
      bufferSize: parsed.SUBSCRIPTION_BUFFER,
      resumeBufferSize: parsed.SUBSCRIPTION_RESUME_BUFFER,
      resumeWindowMs: parsed.SUBSCRIPTION_RESUME_WINDOW,
      clientKeepAliveMs: parsed.SUBSCRIPTION_CLIENT_KEEPALIVE,
      lookupTtlMs: parsed.SUBSCRIPTION_LOOKUP_TTL,
    },
    database: { url: parsed.DATABASE_URL, embeddedDir: parsed.EMBEDDED_DB_DIR },
    auth: {
      jwtSecret: parsed.AUTH_JWT_SECRET,
      jwksUrl: parsed.AUTH_JWKS_URL,
      issuer: parsed.AUTH_JWT_ISSUER,
      audience: parsed.AUTH_JWT_AUDIENCE,
      roleClaim: parsed.AUTH_ROLE_CLAIM,
      externalIdClaim: parsed.AUTH_EXTERNAL_ID_CLAIM,
      apiKeys: parsed.AUTH_API_KEYS,
      customerIntrospection: parsed.CUSTOMER_INTROSPECTION === 'true',
      persistedOperationsFile: parsed.PERSISTED_OPERATIONS_FILE,
    },
    redis: { url: parsed.REDIS_URL, keyPrefix: parsed.REDIS_KEY_PREFIX },
    cache: { ttlMs: parsed.CACHE_TTL, overrides: parsed.CACHE_TTL_OVERRIDES },
    rateLimit: {
      enabled: parsed.RATE_LIMIT_ENABLED === 'true',
      max: parsed.RATE_LIMIT_MAX,
      windowMs: parsed.RATE_LIMIT_WINDOW,
      fields: parsed.RATE_LIMIT_FIELDS,
      onRedisError: parsed.RATE_LIMIT_ON_REDIS_ERROR,
      maxSubscriptions: parsed.RATE_LIMIT_MAX_SUBSCRIPTIONS,
    },
    upstreamProtection: {
      maxConcurrency: parsed.IOMETER_MAX_CONCURRENCY,
      queueTimeoutMs: parsed.IOMETER_QUEUE_TIMEOUT,
      retries: parsed.IOMETER_RETRIES,
      retryMaxDelayMs: parsed.IOMETER_RETRY_MAX_DELAY,
      breakerFailures: parsed.IOMETER_BREAKER_FAILURES,
      breakerCooldownMs: parsed.IOMETER_BREAKER_COOLDOWN,
    },
    consumption: { timeZone: parsed.CONSUMPTION_TIME_ZONE },
    archive: {
      enabled: parsed.ARCHIVE_ENABLED === 'true',
      retentionMs: parsed.ARCHIVE_RETENTION,
      batchSize: parsed.ARCHIVE_BATCH_SIZE,
      flushIntervalMs: parsed.ARCHIVE_FLUSH_INTERVAL,
    },
    metrics: { token: parsed.METRICS_TOKEN, port: parsed.METRICS_PORT },
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT,
    keepAliveTimeoutMs: parsed.HTTP_KEEPALIVE_TIMEOUT,
    tracing: parsed.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { endpoint: parsed.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: parsed.OTEL_SERVICE_NAME }
      : undefined,
    limits: {
      maxDepth: parsed.LIMIT_MAX_DEPTH,
      maxAliases: parsed.LIMIT_MAX_ALIASES,
      maxTokens: parsed.LIMIT_MAX_TOKENS,
      maxCost: parsed.LIMIT_MAX_COST,
      maxDocumentBytes: parsed.LIMIT_MAX_DOCUMENT_BYTES,
      maxBatch: parsed.LIMIT_MAX_BATCH,
    },
  };
}

export interface SimulatorConfig {
  port: number;
  host: string;
  seed: number;
  installations: number;
  readingIntervalMs: number;
  duplicateRate: number;
  historyMs: number;
  token: string;
  secret: string;
}

export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  const parsed = parseEnv(simulatorEnv, env);
  return {
    port: parsed.SIMULATOR_PORT,
    host: parsed.SIMULATOR_HOST,
    seed: parsed.SIMULATOR_SEED,
    installations: parsed.SIMULATOR_INSTALLATIONS,
    readingIntervalMs: parsed.SIMULATOR_READING_INTERVAL,
    duplicateRate: parsed.SIMULATOR_DUPLICATE_RATE,
    historyMs: parsed.SIMULATOR_HISTORY,
    token: parsed.SIMULATOR_TOKEN,
    secret: parsed.SIMULATOR_SECRET,
  };
}
