import { GraphQLError } from 'graphql';
import type { Logger } from '../logging/logger';
import { upstreamError } from '../upstream/errors';
import { ClientSubscription, slowConsumerError, type DeliveryCounters } from './clientSubscription';
import { DedupWindow } from './dedup';
import { FanoutIndex } from './fanout';
import { LiveGroups } from './liveGroups';
import {
  obisCodeSet,
  toReadingPayloads,
  type HubReading,
  type MeterReadingPayload,
  type ReadingPayload,
} from './payload';
import { parsePosition, type Position } from './positions';
import { RecentReadings } from './recentReadings';
import { catchUpThenGoLive, storedReadingRounds, type CatchUpRounds, type PageFetcher } from './replay';
import { localReadingSource, type ReadingSource, type ReadingSourceFactory } from './source';

export interface ReadingHubOptions {
  /** IOmeter graphql-ws endpoint. */
  url: string;
  /** `Basic base64(token:secret)`, sent in connection_init. */
  authorization: string;
  /** Stored readings for a client's startTime replay. */
  fetchPage: PageFetcher;
  logger: Logger;
  /** How long the upstream subscription outlives its last client (SUBSCRIPTION_GRACE). */
  graceMs: number;
  /** Look-back when resuming after a drop (and when opening). Default 5 s. */
  overlapMs?: number;
  /** Readings a client may have queued; one that stays over it for slowConsumerMs is closed with SLOW_CONSUMER (SUBSCRIPTION_BUFFER). */
  bufferSize: number;
  /** How long a client may stay over bufferSize (bursts after a (re)connect are normal). Default 2 s. */
  slowConsumerMs?: number;
  /** How long the upstream may be unreachable before clients get UPSTREAM_UNAVAILABLE (SUBSCRIPTION_RETRY_BUDGET). */
  retryBudgetMs: number;
  /** Upstream ping interval; a missing pong drops and reconnects the socket. Default 10 s. */
  keepAliveMs?: number;
  /** Readings kept in memory for clients resuming by position (SSE Last-Event-ID; SUBSCRIPTION_RESUME_BUFFER). */
  resumeBufferSize: number;
  /** ... and for at most this long (SUBSCRIPTION_RESUME_WINDOW). */
  resumeWindowMs: number;
  /**
   * Where readings come from. Default: this process's own upstream subscription. With Redis,
   * createClusterFeed() shares one upstream subscription among every replica.
   */
  source?: ReadingSourceFactory;
}

export interface ReadingFilter {
  /** Only this installation's readings (a customer); omitted for every installation (staff). */
  externalId?: string;
  /**
   * Replay readings received since then (RFC 3339) before streaming live. Without it the client
   * gets what the hub receives from now on; on a feed that is just opening, that includes the
   * feed's look-back (up to overlapMs of recent readings).
   */
  startTime?: string | null;
  /**
   * Resume after this position (an SSE Last-Event-ID, see positionOf): exactly, while this hub or
   * the cluster's Redis stream still holds the readings after it, else by a replay from the
   * position's receive time (see resumeRounds). Wins over startTime.
   */
  resumeAfter?: string | null;
  /**
   * Spends one of the client's budget for every page of stored readings its replay asks IOmeter for
   * (startTime or a resume by receive time); rejects with RATE_LIMITED when the budget is spent.
   */
  spendReplayPage?: () => Promise<void>;
}

export interface ScheduledFilter {
  externalId?: string;
  resumeAfter?: string | null;
  spendReplayPage?: () => Promise<void>;
  /** Decimal or hex; null or empty means every code. */
  obisCodes?: readonly string[] | null;
}

export interface ReadingHubStats {
  /** Client subscriptions currently open. */
  clients: number;
  /** Upstream `readings` subscriptions open or being opened (0 or 1). */
  upstreamSubscriptions: number;
  /** Payloads handed to clients, replay included. */
  delivered: number;
  /** Readings dropped as already seen: upstream repeats, resume overlap, replay/live seam. */
  duplicatesDropped: number;
}

/** Settings no variable configures; the others come from src/config.ts (SUBSCRIPTION_*). */
const READING_HUB_DEFAULTS = {
  overlapMs: 5_000,
  slowConsumerMs: 2_000,
  keepAliveMs: 10_000,
} as const;

/** Kept beyond the overlap so readings re-sent around a resume are still recognised. */
const DEDUP_MARGIN_MS = 5_000;

type Client = ClientSubscription<unknown>;

/**
 * The live-readings multiplexer: one upstream `readings` subscription per process (or, with the
 * cluster source, per cluster of replicas sharing a Redis), fanned out to every client
 * subscription. Each reading is deduplicated once, routed by installation, and built into a
 * payload once that all its clients share.
 *
 * Errors reach a client as its iterator's next() rejecting with a GraphQLError (codes
 * UPSTREAM_UNAUTHORIZED, UPSTREAM_UNAVAILABLE, UPSTREAM_ERROR, SLOW_CONSUMER), after which it is done.
 */
export class ReadingHub {
  private readonly settings: Required<Omit<ReadingHubOptions, 'url' | 'authorization' | 'fetchPage' | 'logger' | 'source'>>;
  private readonly index = new FanoutIndex<Client>();
  private readonly feed: ReadingSource;
  private dedup: DedupWindow;
  private readonly counters: DeliveryCounters = { delivered: 0, duplicatesDropped: 0 };
  private readonly recent: RecentReadings;
  /** Position of every payload handed out, for the SSE event ids; weak, so payloads are not kept alive. */
  private readonly positions = new WeakMap<object, string>();
  private graceTimer?: NodeJS.Timeout;
  private closed = false;
  /** Subscribers of the same operation in the same scope, sharing one execution per reading (useSharedLiveExecution). */
  readonly liveGroups: LiveGroups;

  constructor(private readonly options: ReadingHubOptions) {
    this.settings = {
      graceMs: options.graceMs,
      overlapMs: options.overlapMs ?? READING_HUB_DEFAULTS.overlapMs,
      bufferSize: options.bufferSize,
      slowConsumerMs: options.slowConsumerMs ?? READING_HUB_DEFAULTS.slowConsumerMs,
      retryBudgetMs: options.retryBudgetMs,
      keepAliveMs: options.keepAliveMs ?? READING_HUB_DEFAULTS.keepAliveMs,
      resumeBufferSize: options.resumeBufferSize,
      resumeWindowMs: options.resumeWindowMs,
    };
    this.liveGroups = new LiveGroups({ bufferSize: this.settings.bufferSize, slowConsumerMs: this.settings.slowConsumerMs });
    this.recent = new RecentReadings(this.settings.resumeBufferSize, this.settings.resumeWindowMs);
    this.dedup = this.newDedupWindow();
    this.feed = (options.source ?? localReadingSource)({
      url: options.url,
      authorization: options.authorization,
      logger: options.logger,
      overlapMs: this.settings.overlapMs,
      retryBudgetMs: this.settings.retryBudgetMs,
      keepAliveMs: this.settings.keepAliveMs,
      onReading: (reading) => this.route(reading),
      onFailure: (error) => this.failAll(error),
    });
  }

  /** `readings` / `myReadings`: whole MeterReadings. return() on the iterator unsubscribes. */
  subscribe(filter: ReadingFilter = {}): AsyncIterableIterator<MeterReadingPayload> {
    return this.open(filter, (reading) => [reading.payload]);
  }

  /** The deprecated `scheduledReadings(obisCodes)`: one Reading per value, filtered by OBIS code. */
  scheduled(filter: ScheduledFilter = {}): AsyncIterableIterator<ReadingPayload> {
    const wanted = obisCodeSet(filter.obisCodes);
    return this.open({ externalId: filter.externalId, resumeAfter: filter.resumeAfter, spendReplayPage: filter.spendReplayPage }, (reading) =>
      toReadingPayloads(reading, wanted),
    );
  }

  /** The position of a payload this hub handed out: resume after it with ReadingFilter.resumeAfter. */
  positionOf(payload: object): string | undefined {
    return this.positions.get(payload);
  }

  private open<T extends object>(filter: ReadingFilter, choose: (reading: HubReading) => readonly T[]): AsyncIterableIterator<T> {
    // Replayed readings were never routed, so they carry their receive time as a position.
    const select = (reading: HubReading): readonly T[] => {
      const items = choose(reading);
      const position = this.positions.get(reading.payload) ?? reading.position ?? String(reading.receiveMs);
      for (const item of items) if (!this.positions.has(item)) this.positions.set(item, position);
      return items;
    };
    if (filter.resumeAfter) {
      const position = parsePosition(filter.resumeAfter);
      // Live readings up to the position reached the client before it reconnected: a replica whose
      // feed just opened routes some again (its look-back).
      const client = this.register<T>(filter.externalId, position?.receiveMs ?? 0, select, position);
      this.resumeRounds(filter.resumeAfter, this.pagesFor(filter))
        .then((rounds) => catchUpThenGoLive(client, rounds))
        .catch((error) => client.fail(this.replayError(error)));
      return client.queue;
    }
    const startTime = filter.startTime ?? undefined;
    const sinceMs = startTime === undefined ? undefined : Date.parse(startTime);
    if (Number.isNaN(sinceMs)) {
      throw new GraphQLError(`startTime "${startTime}" is not an RFC 3339 timestamp`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    const client = this.register<T>(filter.externalId, sinceMs, select);
    if (startTime !== undefined) {
      catchUpThenGoLive(client, storedReadingRounds(this.pagesFor(filter), startTime)).catch((error) =>
        client.fail(this.replayError(error)),
      );
    }
    return client.queue;
  }

  /** IOmeter's stored readings as this client may page them: each page spends its budget first. */
  private pagesFor(filter: ReadingFilter): PageFetcher {
    const { spendReplayPage } = filter;
    if (!spendReplayPage) return this.options.fetchPage;
    return async (startTime, cursor) => {
      await spendReplayPage();
      return this.options.fetchPage(startTime, cursor);
    };
  }

  /**
   * Where a client resuming after `position` catches up from: this hub's recent readings, the
   * source's shared stream (a cluster's, on any replica), or else IOmeter's store from the
   * position's receive time, which may repeat readings received in that same millisecond. A
   * position older than the resume window (SUBSCRIPTION_RESUME_WINDOW) resumes from the window's start: IOmeter's store holds every installation's readings, so an ancient
   * position (`1.x.1`) would page through all of them.
   */
  private async resumeRounds(position: string, fetchPage: PageFetcher): Promise<CatchUpRounds> {
    const seq = this.recent.retainedSeq(position);
    if (seq !== undefined) {
      return this.recent.rounds(seq, () => slowConsumerError(this.settings.bufferSize, this.settings.slowConsumerMs));
    }
    const fromSource = await this.feed.catchUpAfter?.(position);
    if (fromSource) return fromSource;
    const windowStartMs = Date.now() - this.settings.resumeWindowMs;
    const receiveMs = Math.max(parsePosition(position)?.receiveMs ?? Date.now(), windowStartMs);
    return storedReadingRounds(fetchPage, new Date(receiveMs).toISOString());
  }

  get stats(): ReadingHubStats {
    return {
      clients: this.index.size,
      upstreamSubscriptions: this.feed.subscriptions,
      delivered: this.counters.delivered,
      duplicatesDropped: this.counters.duplicatesDropped,
    };
  }

  /** Completes every client iterator and closes the upstream subscription. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.graceTimer);
    for (const client of this.index.all()) client.end();
    await (this.feed.close ? this.feed.close() : this.feed.stop());
  }

  private register<T>(
    externalId: string | undefined,
    sinceMs: number | undefined,
    select: (reading: HubReading) => readonly T[],
    after?: Position,
  ): ClientSubscription<T> {
    if (this.closed) throw upstreamError('UPSTREAM_UNAVAILABLE');
    const client: ClientSubscription<T> = new ClientSubscription<T>({
      externalId,
      sinceMs,
      after,
      select,
      bufferSize: this.settings.bufferSize,
      slowConsumerMs: this.settings.slowConsumerMs,
      seamWindowMs: this.dedupWindowMs(),
      counters: this.counters,
      onStop: () => this.unregister(client as Client),
    });
    this.index.add(externalId, client as Client);
    clearTimeout(this.graceTimer);
    this.feed.start();
    return client;
  }

  private unregister(client: Client): void {
    this.index.remove(client.externalId, client);
    if (this.index.size > 0 || this.closed || !this.feed.isRunning) return;
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => {
      if (this.index.size > 0) return;
      this.options.logger.info({ upstream: 'iometer' }, 'no clients left; closing the readings feed');
      void this.feed.stop();
      this.dedup = this.newDedupWindow();
    }, this.settings.graceMs);
  }

  private route(reading: HubReading): void {
    if (!this.dedup.admit(reading.key, reading.receiveMs)) {
      this.counters.duplicatesDropped += 1;
      return;
    }
    this.positions.set(reading.payload, reading.position ?? this.recent.add(reading));
    for (const client of this.index.matching(reading.externalId)) client.offer(reading);
  }

  private failAll(error: GraphQLError): void {
    clearTimeout(this.graceTimer);
    for (const client of this.index.all()) client.fail(error);
    this.dedup = this.newDedupWindow();
  }

  /** Page fetch failures: GraphQL errors (already coded by the upstream transport) pass, the rest are masked. */
  private replayError(error: unknown): GraphQLError {
    if (error instanceof GraphQLError) return error;
    this.options.logger.warn({ upstream: 'iometer', err: error }, 'replay page fetch failed');
    return upstreamError('UPSTREAM_UNAVAILABLE', error);
  }

  private dedupWindowMs(): number {
    return this.settings.overlapMs + DEDUP_MARGIN_MS;
  }

  private newDedupWindow(): DedupWindow {
    return new DedupWindow(this.dedupWindowMs());
  }
}
