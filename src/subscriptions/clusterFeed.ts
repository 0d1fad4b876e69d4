import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { GraphQLError } from 'graphql';
import { MAX_RECONNECT_DELAY_MS, type RedisConnection } from '../redis/connection';
import { upstreamError, type UpstreamErrorCode } from '../upstream/errors';
import { LeaderLock } from './leaderLock';
import { toHubReading, type MeterReading } from './payload';
import { Presence } from './presence';
import { PublishBacklog } from './publishBacklog';
import { ReadingStream, streamHubReading, type StreamEntry, type StreamReader } from './readingStream';
import type { CatchUpRounds } from './replay';
import type { ReadingSource, ReadingSourceFactory, UpstreamConsumer } from './source';
import { prepareConsumer } from './source';
import { UpstreamReadingFeed, type UpstreamFeedOptions } from './upstreamFeed';

export interface ClusterFeedOptions {
  redis: RedisConnection;
  /** Leader lease. A crashed leader is replaced within about lockTtlMs + renewMs. Default 3 s. */
  lockTtlMs?: number;
  /** How often the leader renews its lease and replicas with clients try to take over. Default 1 s. */
  renewMs?: number;
  /** How long the leader keeps the upstream subscription once no replica has clients. Default 3 s. */
  idleMs?: number;
  /** Names this process in the lock and the presence set. Default: host, pid and a random suffix. */
  replicaId?: string;
  /**
   * A permanent consumer (the archive): this replica contends for the lead even without clients,
   * and as leader keeps the upstream subscription open and feeds the consumer every reading.
   */
  consumer?: UpstreamConsumer;
}

export const CLUSTER_FEED_DEFAULTS = {
  lockTtlMs: 3_000,
  renewMs: 1_000,
  idleMs: 3_000,
} as const;

/** How much of the readings stream Redis keeps. */
const STREAM_RETENTION_MS = 5 * 60_000;
/** After the upstream failed for good, how long the leader waits before opening it again. */
const FAILURE_HOLD_MS = 5_000;
/**
 * Readings the leader holds for the stream while Redis is away: at a few hundred bytes each, tens of
 * MB at most; 8 s of 25,000 installations, minutes of a smaller fleet.
 */
const MAX_BACKLOG = 100_000;
/** Readings the leader remembers having published: the ones in flight when Redis went away. */
const RECENTLY_PUBLISHED = 1_000;
/** How often the leader tries to publish its backlog while Redis is away. */
const BACKLOG_RETRY_MS = 500;

/**
 * The hub's source when several gateway replicas share a Redis: the whole cluster holds ONE
 * upstream `readings` subscription. Pass it as ReadingHubOptions.source.
 */
export function createClusterFeed(options: ClusterFeedOptions): ReadingSourceFactory {
  return (feed) => new ClusterReadingFeed(options, feed);
}

/**
 * One replica's part of the cluster feed.
 *
 * - Every replica with clients claims presence and reads the Redis stream into its hub (the
 *   hub's dedup and fan-out are unchanged), so the leader is in no way special to its own clients.
 * - The replica holding the leader lock runs the upstream subscription while any replica claims
 *   presence, and publishes what it receives, failures included, to the stream.
 * - A new leader resumes from the last reading in the stream minus the overlap, so a failover
 *   leaves no gap; the repeats land in every hub's dedup window.
 * - While Redis is away the leader keeps its upstream subscription (nobody can take the lock from
 *   it meanwhile), hands what it receives to its own hub directly and holds it (bounded) for the
 *   stream; once Redis is back it publishes what it held, in order, and the other replicas catch up.
 *   A replica cut off from Redis alone may meet a second leader; the hubs' dedup absorbs the repeats.
 */
export class ClusterReadingFeed implements ReadingSource {
  private readonly settings: Required<Omit<ClusterFeedOptions, 'redis' | 'consumer'>>;
  private readonly consumer?: UpstreamConsumer;
  private readonly lock: LeaderLock;
  private readonly presence: Presence;
  private readonly stream: ReadingStream;
  private readonly upstream: UpstreamReadingFeed;
  private reader?: StreamReader;
  private started = false;
  private startedAtMs = 0;
  private leader = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private idleSinceMs?: number;
  private failedAtMs?: number;
  /** A tick or the stream reader has reached Redis: a later failure is an outage, not a connection still being made. */
  private reachedRedis = false;
  /** A follower's tick could not reach Redis: when it can again, it first leaves the old leader time to retake the lock. */
  private missedRedis = false;
  /** Until then a follower does not contend for the lock (see tick). */
  private contendAfterMs = 0;
  /** Between winning the lead and opening the upstream subscription (the consumer's beforeOpen, the resume point). */
  private opening?: Promise<void>;
  /** Set while publishing fails: readings go to this hub directly and wait in the backlog. */
  private streamDown = false;
  private readonly backlog = new PublishBacklog(MAX_BACKLOG);
  private recentlyPublished: MeterReading[] = [];
  private backlogTimer?: NodeJS.Timeout;
  private flushing = false;

  constructor(
    options: ClusterFeedOptions,
    private readonly feed: UpstreamFeedOptions,
  ) {
    this.settings = {
      lockTtlMs: options.lockTtlMs ?? CLUSTER_FEED_DEFAULTS.lockTtlMs,
      renewMs: options.renewMs ?? CLUSTER_FEED_DEFAULTS.renewMs,
      idleMs: options.idleMs ?? CLUSTER_FEED_DEFAULTS.idleMs,
      replicaId: options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    };
    const { client, keyPrefix } = options.redis;
    const { replicaId, lockTtlMs } = this.settings;
    this.lock = new LeaderLock(client, `${keyPrefix}readings:leader`, replicaId, lockTtlMs);
    this.presence = new Presence(client, `${keyPrefix}readings:replicas`, replicaId, lockTtlMs);
    this.stream = new ReadingStream(client, `${keyPrefix}readings:stream`, STREAM_RETENTION_MS);
    this.consumer = options.consumer;
    this.upstream = new UpstreamReadingFeed({
      ...feed,
      onReading: (_reading, raw) => {
        this.publish(raw);
        this.consumer?.onReading(raw);
      },
      onFailure: (error) => this.upstreamFailed(error),
    });
    if (this.consumer) this.wake(0);
  }

  /** The upstream subscription is this process's only while it leads. */
  get subscriptions(): number {
    return this.upstream.subscriptions;
  }

  get isRunning(): boolean {
    return this.started;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.startedAtMs = Date.now();
    // Stream ids are Redis's clock in ms, so starting overlapMs back gives the same look-back a
    // freshly opened upstream subscription has (which a client's startTime replay relies on).
    this.reader = this.stream.read({
      sinceMs: this.startedAtMs - this.feed.overlapMs,
      onEntry: (entry) => this.consume(entry),
      // The leader's clients are served directly meanwhile; a follower's have nothing to wait for.
      onOutage: () => {
        if (this.leader && this.upstream.isRunning) return true;
        this.fail(upstreamError('UPSTREAM_UNAVAILABLE'));
        return false;
      },
      outageBudgetMs: this.feed.retryBudgetMs,
    });
    this.wake(0);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.reader?.stop();
    this.reader = undefined;
    // If this fails the claim lapses by itself. A leader keeps serving the other replicas; its
    // loop closes the upstream subscription and hands the lock back once nobody has clients.
    await this.presence.withdraw().catch(() => undefined);
  }

  /** Shutting down: hand the lock over now, so a follower resumes without waiting out the TTL. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.backlogTimer);
    await this.stop();
    await this.ticking;
    if (this.leader) await this.resign();
    else await this.upstream.stop();
  }

  /** Runs a tick now (or after delayMs), unless one is running: that one schedules the next. */
  private wake(delayMs: number): void {
    if (this.closed || this.ticking) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (this.started || this.leader || this.consumer) this.wake(this.settings.renewMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { logger } = this.feed;
    const replica = this.settings.replicaId;
    try {
      if (this.started) {
        await this.presence.refresh();
        this.reachedRedis = true;
      }
      if (this.missedRedis) {
        // Redis is back, maybe restarted empty, without the lock. The leader kept its upstream
        // subscription and a backlog meanwhile; taking the lead from it now would open a second one
        // whose readings overtake that backlog in the stream, and the hubs' dedup would then drop the
        // older held readings as repeats. So it gets a lease's time to retake the lock, as if its lease
        // had run on through the outage, plus the time its own connection may take to find Redis back;
        // a leader that died meanwhile is replaced after that.
        this.missedRedis = false;
        this.contendAfterMs = Date.now() + this.settings.lockTtlMs + MAX_RECONNECT_DELAY_MS;
      }
      if (this.leader) {
        // A lapsed lock (Redis restarted empty) is taken straight back; one another replica holds is not.
        if (!(await this.lock.renew()) && !(await this.lock.acquire())) return this.depose('another replica holds the lock');
      } else {
        // Only replicas with clients (or a consumer) contend: others have no reason to hold the upstream.
        if (!(this.started || this.consumer) || Date.now() < this.contendAfterMs) return;
        const acquired = await this.lock.acquire();
        this.reachedRedis = true;
        if (!acquired) return;
        this.leader = true;
        this.idleSinceMs = undefined;
        logger.info({ upstream: 'iometer', replica }, 'leading the cluster readings feed');
      }
      if (!this.closed) await this.lead();
    } catch (error) {
      // Redis unreachable: no other replica can take the lock either, so the leader keeps leading and
      // serves its own clients directly (see publish); the next tick that reaches Redis renews or retakes it.
      if (!this.leader && this.reachedRedis) this.missedRedis = true;
      logger.debug({ upstream: 'iometer', replica, leader: this.leader, err: error }, 'cluster feed tick failed');
    }
  }

  /** The leader's part of a tick: the upstream subscription follows the cluster's presence. */
  private async lead(): Promise<void> {
    const now = Date.now();
    if (this.consumer || (await this.presence.count()) > 0) {
      this.idleSinceMs = undefined;
      if (this.upstream.isRunning || this.opening) return;
      if (this.failedAtMs !== undefined && now - this.failedAtMs < FAILURE_HOLD_MS) return;
      const opening = this.openUpstream().finally(() => (this.opening = undefined));
      this.opening = opening;
      if (!this.consumer) return opening;
      // With a consumer not awaited: a slow database must not hold up the ticks that renew the lease.
      // Nor can a failure (Redis) reach the tick's handler, so it is logged, and a later tick opens again.
      opening.catch((error) => this.feed.logger.warn({ upstream: 'iometer', err: error }, 'opening the cluster readings feed failed'));
      return;
    }
    this.idleSinceMs ??= now;
    if (now - this.idleSinceMs < this.settings.idleMs) return;
    if (this.upstream.isRunning) {
      this.feed.logger.info({ upstream: 'iometer' }, 'no replica has clients; closing the readings feed');
      await this.upstream.stop();
      // Marks the end as deliberate, so the next leader opens afresh instead of resuming.
      await this.stream.publishStopped();
    }
    if (!this.started) await this.resign();
  }

  /**
   * A reading as the stream's newest entry means the last leader was cut off mid-subscription
   * (crash, lost lease, shutdown): continue from it. A stop or failure marker, an empty stream or
   * a reading older than the stream keeps means a fresh start with the usual look-back.
   */
  private async resumePoint(): Promise<number | undefined> {
    const last = await this.stream.last();
    if (last?.kind !== 'reading') return undefined;
    const receiveMs = Date.parse(last.reading.receiveTime);
    if (Number.isNaN(receiveMs) || Date.now() - receiveMs > STREAM_RETENTION_MS) return undefined;
    this.feed.logger.info({ upstream: 'iometer', resumeFrom: last.reading.receiveTime }, 'resuming the cluster readings feed');
    return receiveMs;
  }

  private async openUpstream(): Promise<void> {
    if (this.consumer) await prepareConsumer(this.consumer, this.feed.logger);
    const resumeFromMs = await this.resumePoint();
    if (this.closed || !this.leader) return;
    this.upstream.start(resumeFromMs);
  }

  private async resign(): Promise<void> {
    this.leader = false;
    await this.upstream.stop();
    await this.lock.release().catch(() => undefined);
  }

  private depose(reason: string): void {
    this.leader = false;
    this.feed.logger.warn({ upstream: 'iometer', replica: this.settings.replicaId, reason }, 'lost the cluster readings lead');
    void this.upstream.stop();
  }

  /** Positions are stream entries, so a client may resume on any replica while Redis retains them. */
  catchUpAfter(position: string): Promise<CatchUpRounds | undefined> {
    return this.stream.roundsAfter(position);
  }

  private publish(reading: MeterReading): void {
    if (this.streamDown) return this.holdBack(reading);
    this.stream.publishReading(reading).then(
      () => {
        this.recentlyPublished.push(reading);
        if (this.recentlyPublished.length > 2 * RECENTLY_PUBLISHED) this.recentlyPublished = this.recentlyPublished.slice(-RECENTLY_PUBLISHED);
      },
      (error) => {
        this.streamUnavailable(error);
        this.holdBack(reading);
      },
    );
  }

  /** The first failed publish: from now on this hub is fed directly, until the backlog is in the stream. */
  private streamUnavailable(error: unknown): void {
    if (this.streamDown) return;
    this.streamDown = true;
    this.feed.logger.warn({ upstream: 'iometer', err: error }, 'cannot publish readings to Redis: serving this replica directly and holding them for the stream');
    // Published just before, maybe not read back yet by this replica or any other, and lost if Redis
    // comes back empty (it need not persist anything): this hub gets them directly and the stream
    // again; every hub's dedup drops the copies it already has.
    const inFlight = this.recentlyPublished.slice(-RECENTLY_PUBLISHED);
    this.recentlyPublished = [];
    for (const reading of inFlight) this.holdBack(reading);
    clearInterval(this.backlogTimer);
    // A publish that fails while the feed closes (its Redis connection gone first) must not start a
    // timer that close() has already cleared: nothing would stop it.
    if (!this.closed) this.backlogTimer = setInterval(() => void this.publishBacklog(), BACKLOG_RETRY_MS);
  }

  private holdBack(reading: MeterReading): void {
    this.deliverDirectly(reading);
    this.backlog.hold(reading);
  }

  private deliverDirectly(reading: MeterReading): void {
    const hubReading = toHubReading(reading);
    if (!hubReading || !this.started) return;
    this.backlog.noteDeliveredDirectly(hubReading.key);
    this.feed.onReading(hubReading, reading);
  }

  /** Adds the held readings to the stream, oldest first; stops at the first failure and tries again later. */
  private async publishBacklog(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.backlog.size > 0) {
        await this.stream.publishReading(this.backlog.oldest());
        this.backlog.published();
      }
      this.streamDown = false;
      clearInterval(this.backlogTimer);
      const { dropped } = this.backlog;
      this.feed.logger.info({ upstream: 'iometer', dropped }, 'Redis is back: held readings published, serving through the stream again');
      this.backlog.dropped = 0;
    } catch {
      // Still away; the timer tries again.
    } finally {
      this.flushing = false;
    }
  }

  private upstreamFailed(error: GraphQLError): void {
    this.failedAtMs = Date.now();
    const code = error.extensions.code as UpstreamErrorCode;
    // Without Redis the other replicas cannot be told, but this one's clients still are.
    this.stream.publishFailure(code).catch(() => this.fail(error));
  }

  private consume(entry: StreamEntry): void {
    this.reachedRedis = true;
    if (entry.kind === 'reading') {
      const reading = streamHubReading(entry.id, entry.reading);
      if (reading && this.backlog.takeDeliveredDirectly(reading.key)) return;
      if (reading) this.feed.onReading(reading, entry.reading);
      else this.feed.logger.warn({ upstream: 'iometer' }, 'stream reading lacks meter, installation or valid times; skipped');
    } else if (entry.kind === 'failure' && entry.atMs >= this.startedAtMs) {
      // Failures from before this replica started concern clients that are already gone.
      this.fail(upstreamError(entry.code));
    }
  }

  /** As the local feed does: stop, then tell the hub, which fails its clients with the code. */
  private fail(error: GraphQLError): void {
    void this.stop();
    this.feed.onFailure(error);
  }
}
