import type { GraphQLError } from 'graphql';
import type { Logger } from '../logging/logger';
import { upstreamError } from '../upstream/errors';
import { toHubReading, type HubReading, type MeterReading } from './payload';
import { openUpstreamConnection, type ConnectionEnd, type UpstreamConnection } from './upstreamConnection';

export interface UpstreamFeedOptions {
  url: string;
  authorization: string;
  logger: Logger;
  /** How far before the last receive time a resume starts; also the look-back of a fresh start. */
  overlapMs: number;
  /** How long the feed may be without an acknowledged connection before it gives up. */
  retryBudgetMs: number;
  keepAliveMs: number;
  /** `raw` is the reading as IOmeter sent it, for a cluster leader to publish to the other replicas. */
  onReading: (reading: HubReading, raw: MeterReading) => void;
  /** The feed has stopped for good (credentials refused, request rejected, budget spent). */
  onFailure: (error: GraphQLError) => void;
}

const BACKOFF_INITIAL_MS = 250;
const BACKOFF_MAX_MS = 5_000;

/** Exponential, with jitter so a fleet of gateways does not reconnect in lockstep after an outage. */
const backoffMs = (attempt: number) =>
  Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * The process's one upstream `readings` subscription. It reconnects on its own and resumes from
 * the last receive time minus `overlapMs`, so the stream it emits has no gap across a drop (the
 * repeats the overlap causes are the hub's dedup's job).
 *
 * A fresh start also looks back `overlapMs`: a client joining with a startTime replays up to the
 * moment its last page was fetched, and the look-back makes sure the live feed already covers that
 * moment, however long the upstream took to register the subscription.
 */
export class UpstreamReadingFeed {
  private running = false;
  private connection?: UpstreamConnection;
  private lastReceiveMs?: number;
  /** Consecutive attempts without a reading; reset by one, so a flapping upstream still backs off. */
  private attempts = 0;
  private retryTimer?: NodeJS.Timeout;
  private budgetTimer?: NodeJS.Timeout;

  constructor(private readonly options: UpstreamFeedOptions) {}

  /** 1 while a connection is open or being opened, else 0. */
  get subscriptions(): number {
    return this.connection ? 1 : 0;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * `resumeFromMs`: continue a subscription another process held, from its last receive time
   * (minus the overlap, as after a drop); without it the feed opens with the usual look-back.
   */
  start(resumeFromMs?: number): void {
    if (this.running) return;
    this.running = true;
    this.lastReceiveMs = resumeFromMs;
    this.attempts = 0;
    this.armBudget();
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.budgetTimer);
    this.budgetTimer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  private connect(): void {
    const startTime = new Date((this.lastReceiveMs ?? Date.now()) - this.options.overlapMs).toISOString();
    const { logger } = this.options;
    const connection: UpstreamConnection = openUpstreamConnection({
      url: this.options.url,
      authorization: this.options.authorization,
      keepAliveMs: this.options.keepAliveMs,
      logger,
      startTime,
      onConnected: () => {
        clearTimeout(this.budgetTimer);
        this.budgetTimer = undefined;
        logger.info({ upstream: 'iometer', startTime }, 'readings feed subscribed upstream');
      },
      onReading: (raw) => {
        const reading = toHubReading(raw);
        if (!reading) {
          logger.warn({ upstream: 'iometer' }, 'upstream reading lacks meter, installation or valid times; skipped');
          return;
        }
        this.attempts = 0;
        if (this.lastReceiveMs === undefined || reading.receiveMs > this.lastReceiveMs) this.lastReceiveMs = reading.receiveMs;
        this.options.onReading(reading, raw);
      },
      onEnd: (end) => {
        if (this.connection === connection) this.connectionEnded(end);
      },
    });
    this.connection = connection;
  }

  private connectionEnded(end: ConnectionEnd): void {
    this.connection = undefined;
    const { logger } = this.options;
    if (end.reason === 'unauthorized') {
      logger.error({ upstream: 'iometer', closeCode: end.closeCode }, 'upstream refused the credentials; readings feed stopped');
      this.fail(upstreamError('UPSTREAM_UNAUTHORIZED'));
    } else if (end.reason === 'rejected') {
      logger.error({ upstream: 'iometer', errors: end.errors }, 'upstream rejected the readings subscription; feed stopped');
      this.fail(upstreamError('UPSTREAM_ERROR'));
    } else {
      const delayMs = Math.round(backoffMs(this.attempts));
      this.attempts += 1;
      logger.warn(
        { upstream: 'iometer', closeCode: end.closeCode, attempt: this.attempts, delayMs },
        'readings feed lost its upstream subscription; reconnecting',
      );
      this.armBudget();
      this.retryTimer = setTimeout(() => this.connect(), delayMs);
    }
  }

  /** Started when the feed loses (or has not yet got) a connection; cleared on acknowledgement. */
  private armBudget(): void {
    if (this.budgetTimer) return;
    this.budgetTimer = setTimeout(() => {
      this.options.logger.error(
        { upstream: 'iometer', retryBudgetMs: this.options.retryBudgetMs },
        'upstream unreachable for the whole retry budget; readings feed stopped',
      );
      this.fail(upstreamError('UPSTREAM_UNAVAILABLE'));
    }, this.options.retryBudgetMs);
  }

  private fail(error: GraphQLError): void {
    void this.stop();
    this.options.onFailure(error);
  }
}
