import type Redis from 'ioredis';
import type { UpstreamErrorCode } from '../upstream/errors';
import { toHubReading, type HubReading, type MeterReading } from './payload';
import { comparePlaces, formatPosition, parsePosition, STREAM_SOURCE } from './positions';
import type { CatchUpRounds } from './replay';

/**
 * What the cluster leader publishes: readings as IOmeter sent them, plus the control entries a
 * follower needs to behave like a process with its own upstream subscription.
 */
export type StreamEntry =
  | { kind: 'reading'; atMs: number; id: string; reading: MeterReading }
  /** The upstream subscription failed for good; clients get this code. */
  | { kind: 'failure'; atMs: number; code: UpstreamErrorCode }
  /** The leader closed the upstream subscription because no replica had clients: nothing to resume. */
  | { kind: 'stopped'; atMs: number };

const BLOCK_MS = 1_000;
const READ_COUNT = 500;
const RETRY_MS = 250;

/** Entry ids are Redis's millisecond clock plus a sequence; the clock part says when it was added. */
const idMs = (id: string) => Number(id.split('-')[0]);

function parseEntry(id: string, fields: string[]): StreamEntry | undefined {
  const atMs = idMs(id);
  const [field, value] = fields;
  if (field === 'r') {
    try {
      return { kind: 'reading', atMs, id, reading: JSON.parse(value) as MeterReading };
    } catch {
      return undefined;
    }
  }
  if (field === 'f') return { kind: 'failure', atMs, code: value as UpstreamErrorCode };
  if (field === 's') return { kind: 'stopped', atMs };
  return undefined;
}

/** A stream reading as the hub routes it, carrying its stream position. */
export function streamHubReading(id: string, reading: MeterReading): HubReading | undefined {
  const hubReading = toHubReading(reading);
  return hubReading && { ...hubReading, position: formatPosition({ receiveMs: hubReading.receiveMs, source: STREAM_SOURCE, place: id }) };
}

/**
 * The cluster's readings as a Redis Stream, trimmed to the last `retentionMs` on every write
 * (MINID ~, so trimming is cheap and memory stays bounded by the reading rate, not by uptime).
 */
export class ReadingStream {
  constructor(
    private readonly client: Redis,
    readonly key: string,
    private readonly retentionMs: number,
  ) {}

  publishReading(reading: MeterReading): Promise<unknown> {
    return this.add('r', JSON.stringify(reading));
  }

  publishFailure(code: UpstreamErrorCode): Promise<unknown> {
    return this.add('f', code);
  }

  publishStopped(): Promise<unknown> {
    return this.add('s', '1');
  }

  /** The newest entry: a reading there means a subscription was cut off and should be resumed. */
  async last(): Promise<StreamEntry | undefined> {
    const [entry] = await this.client.xrevrange(this.key, '+', '-', 'COUNT', 1);
    return entry ? parseEntry(entry[0], entry[1]) : undefined;
  }

  /**
   * Reads entries added since `sinceMs` (by Redis's clock) until stopped. The blocking read gets a
   * connection of its own: XREAD BLOCK holds its connection, and every other command would queue
   * behind it on a shared one.
   */
  read(options: StreamReaderOptions): StreamReader {
    return new StreamReader(this.client, this.key, options);
  }

  /**
   * Catch-up rounds of the readings published after a stream position, for a client resuming with
   * it on any replica; undefined if the position is not one of this stream's, or if entries after it
   * were trimmed already (a resume from there would have a gap).
   */
  async roundsAfter(position: string): Promise<CatchUpRounds | undefined> {
    const parsed = parsePosition(position);
    if (parsed?.source !== STREAM_SOURCE) return undefined;
    const afterId = parsed.place;
    const [oldest] = await this.client.xrange(this.key, '-', '+', 'COUNT', 1);
    if (!oldest || comparePlaces(oldest[0], afterId) > 0) return undefined;
    let after = afterId;
    const { client, key } = this;
    return async function* () {
      for (;;) {
        const batch = await client.xrange(key, `(${after}`, '+', 'COUNT', READ_COUNT);
        if (batch.length === 0) return;
        for (const [id, fields] of batch) {
          after = id;
          const entry = parseEntry(id, fields);
          const reading = entry?.kind === 'reading' ? streamHubReading(id, entry.reading) : undefined;
          if (reading) yield reading;
        }
      }
    };
  }

  private add(field: string, value: string): Promise<unknown> {
    return this.client.xadd(this.key, 'MINID', '~', String(Date.now() - this.retentionMs), '*', field, value);
  }
}

export interface StreamReaderOptions {
  sinceMs: number;
  onEntry: (entry: StreamEntry) => void;
  /**
   * Redis has been unreachable for `outageBudgetMs`: true to keep trying (the budget starts over),
   * false to stop the reader.
   */
  onOutage: () => boolean;
  outageBudgetMs: number;
}

export class StreamReader {
  private stopped = false;
  private readonly connection: Redis;
  private lastId: string;

  constructor(client: Redis, private readonly key: string, private readonly options: StreamReaderOptions) {
    // An offline queue is harmless here (one command at a time) and saves waiting for 'ready'.
    this.connection = client.duplicate({ enableOfflineQueue: true });
    // Outages are logged by the shared connection; without a listener ioredis prints them itself.
    this.connection.on('error', () => undefined);
    this.lastId = `${Math.max(0, Math.floor(options.sinceMs))}-0`;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    // Also rejects the pending blocking read, so the loop ends now rather than after BLOCK_MS.
    this.connection.disconnect();
  }

  private async loop(): Promise<void> {
    let lastOkMs = Date.now();
    while (!this.stopped) {
      try {
        const result = await this.connection.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', this.key, this.lastId);
        lastOkMs = Date.now();
        for (const [id, fields] of result?.[0]?.[1] ?? []) {
          if (this.stopped) return;
          this.lastId = id;
          const entry = parseEntry(id, fields);
          if (entry) this.options.onEntry(entry);
        }
      } catch {
        if (this.stopped) return;
        if (Date.now() - lastOkMs > this.options.outageBudgetMs) {
          if (this.options.onOutage()) {
            lastOkMs = Date.now();
          } else {
            this.stop();
            return;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }
}
