import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from '../cache/stats';
import type { ReadingHubStats } from '../subscriptions/readingHub';
import type { CircuitStateName } from '../upstream/circuitBreaker';
import type { UpstreamExchange } from '../upstream/httpFetch';
import { MAX_CLIENT_FIELD_LENGTH } from '../shared/graphqlClient';
import { BoundedLabels } from './boundedLabels';
import { operationNameLabels } from './operationLabels';

/** What the gateway's own collectors read at scrape time; the modules keep these counts anyway. */
export interface ObservedState {
  cache: CacheStats;
  readings: () => ReadingHubStats;
  circuit: () => CircuitStateName;
  /** 'ok' or 'down: <reason>' per shared dependency, asked at scrape time (the /readyz checks). */
  dependencies: () => Promise<Record<string, string>>;
  /** The reading archive's lag (ReadingArchive.lagSeconds); absent when ARCHIVE_ENABLED=false. */
  archiveLagSeconds?: () => Promise<number | undefined>;
}

/** What the request counter labels by, of a request's summary (src/plugins/useRequestSummary.ts). */
export interface CountedRequest {
  operationName?: string;
  status: number;
  cache?: string;
  clientName?: string;
  clientVersion?: string;
}

/** Distinct client names, and client versions, with series of their own; the rest count as `other`. */
const MAX_CLIENT_NAME_SERIES = 20;
const MAX_CLIENT_VERSION_SERIES = 50;

const CIRCUIT_STATE_VALUES: Record<CircuitStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The gateway's Prometheus registry: one per gateway instance (not prom-client's global one), so that
 * several gateways in one process (tests, benchmarks) never share or collide on metrics. The GraphQL
 * request metrics come from the Prometheus plugin (src/plugins/useMetrics.ts); the upstream and
 * rate-limit counts are pushed here as they happen; the rest is sampled from `observe()` when scraped.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  /** Bounds the operationName label of every metric here and of the Prometheus plugin's. */
  readonly operationLabels = operationNameLabels();

  private readonly upstreamRequests = new Counter({
    name: 'iometer_upstream_requests_total',
    help: 'HTTP requests (attempts, retries included) the gateway sent to IOmeter, by operation type and HTTP status (or "error" when no answer came).',
    labelNames: ['operationType', 'status'] as const,
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: 'iometer_upstream_request_duration_seconds',
    help: 'Time from sending an HTTP request to IOmeter until its body was read, by operation type.',
    labelNames: ['operationType'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly httpRequests = new Counter({
    name: 'iometer_gateway_http_requests_total',
    help: 'HTTP requests to the GraphQL endpoint, cache hits and refusals included, by operation name, HTTP status and cache verdict.',
    labelNames: ['operationName', 'status', 'cache'] as const,
    registers: [this.registry],
  });

  /** Apps and their versions are few; a client sending a new name or version per request lands in `other`. */
  private readonly clientNames = new BoundedLabels({ fixed: [], maxSeries: MAX_CLIENT_NAME_SERIES, maxLength: MAX_CLIENT_FIELD_LENGTH });
  private readonly clientVersions = new BoundedLabels({ fixed: [], maxSeries: MAX_CLIENT_VERSION_SERIES, maxLength: MAX_CLIENT_FIELD_LENGTH });

  private readonly clientRequests = new Counter({
    name: 'iometer_gateway_client_requests_total',
    help: 'HTTP requests to the GraphQL endpoint by the client name and version they sent (graphql-client-name/-version or apollographql-client-name/-version; "none" without), and HTTP status.',
    labelNames: ['clientName', 'clientVersion', 'status'] as const,
    registers: [this.registry],
  });

  private readonly rateLimited = new Counter({
    name: 'iometer_gateway_rate_limited_total',
    help: 'Operations and subscriptions refused by a rate limit or the subscription cap.',
    registers: [this.registry],
  });

  private readonly alertWebhook = new Counter({
    name: 'iometer_gateway_alert_webhook_total',
    help: 'Usage alerts sent to ALERT_WEBHOOK_URL, by outcome: delivered, failed (after every retry) or dropped (too many pending).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly countAlertWebhook = (outcome: 'delivered' | 'failed' | 'dropped'): void => this.alertWebhook.inc({ outcome });

  /** For the IOmeter fetch of one operation type: records each attempt. */
  upstreamObserver(operationType: 'query' | 'mutation'): (exchange: UpstreamExchange) => void {
    return ({ status, durationMs }) => {
      this.upstreamRequests.inc({ operationType, status: String(status) });
      this.upstreamDuration.observe({ operationType }, durationMs / 1_000);
    };
  }

  readonly countRateLimited = (): void => this.rateLimited.inc();

  readonly countRequest = ({ operationName, status, cache, clientName, clientVersion }: CountedRequest): void => {
    this.httpRequests.inc({ operationName: this.operationLabels.label(operationName), status: String(status), cache: cache ?? 'none' });
    this.clientRequests.inc({ clientName: this.clientNames.label(clientName), clientVersion: this.clientVersions.label(clientVersion), status: String(status) });
  };

  /** Registers the collectors that read other modules' counts at scrape time. */
  observe(state: ObservedState): void {
    const registers = [this.registry];
    const sampledCounter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        // The source is monotonic already; the counter just mirrors it.
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const sampledGauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    sampledCounter('iometer_gateway_cache_hits_total', 'Queries answered from the response cache.', () => state.cache.hits);
    sampledCounter('iometer_gateway_cache_misses_total', 'Cacheable queries the response cache could not answer.', () => state.cache.misses);
    sampledGauge('iometer_gateway_client_subscriptions', 'Live-readings subscriptions of clients open on this process.', () => state.readings().clients);
    sampledGauge('iometer_gateway_upstream_subscriptions', 'Readings subscriptions this process holds open to IOmeter.', () => state.readings().upstreamSubscriptions);
    sampledCounter('iometer_gateway_readings_fanned_out_total', 'Readings delivered to client subscriptions.', () => state.readings().delivered);
    new Gauge({
      name: 'iometer_gateway_dependency_up',
      help: 'Shared dependencies (upstream, database, redis) as the readiness checks see them: 1 up, 0 down (the gateway then serves degraded).',
      labelNames: ['dependency'] as const,
      registers,
      async collect() {
        for (const [dependency, health] of Object.entries(await state.dependencies())) this.set({ dependency }, health === 'ok' ? 1 : 0);
      },
    });
    const archiveLag = state.archiveLagSeconds;
    if (archiveLag) {
      new Gauge({
        name: 'iometer_gateway_archive_lag_seconds',
        help: 'Seconds since the newest reading the archive has committed was received (the checkpoint all replicas share); absent before the first batch or while the database does not answer.',
        registers,
        async collect() {
          this.reset();
          const lag = await archiveLag().catch(() => undefined);
          if (lag !== undefined) this.set(lag);
        },
      });
    }
    sampledGauge(
      'iometer_upstream_circuit_state',
      'State of the IOmeter circuit breaker: 0 closed, 1 half-open (probing), 2 open (failing fast).',
      () => CIRCUIT_STATE_VALUES[state.circuit()],
    );
  }
}
