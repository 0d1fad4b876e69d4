import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Subscriber load for the fan-out (bench/lib/fanOut.ts): opens one graphql-ws client (one WebSocket each) to
 * BENCH_WS_URL per connectionParams object the parent sends, subscribes each to BENCH_QUERY, and records, per reading, the delay from its
 * emission by the simulator (Emissions) to its arrival here. Driven over the IPC channel:
 *   parent: connect {connectionParams[]} | subscribe | start | stop | close
 *   worker: ready {connected, failed, connectErrors} | live (every client has its first result) | result {...}
 * Connecting and subscribing are separate steps, so every client connects before any reading flows:
 * handshakes queued behind deliveries on a busy server would otherwise run into the connect deadline.
 * Errors count from subscribing on (one before the window ends a subscriber as surely as one inside it).
 * Delays go into a 1 ms histogram, so a worker's memory does not grow with the readings it receives.
 */
const url = process.env.BENCH_WS_URL!;
const query = process.env.BENCH_QUERY!;
// Opening thousands of sockets at once overflows the server's accept backlog; open them in waves.
const WAVE = 200;
const MAX_MS = 60_000;
const connectTimeoutMs = Number(process.env.BENCH_CONNECT_TIMEOUT ?? 60) * 1000;
let deadline = Infinity;

const histogram = new Uint32Array(MAX_MS + 1);
const errors = new Map<string, number>();
let measuring = false;
let received = 0;

const connectErrors = new Map<string, number>();
const countError = (code: string) => errors.set(code, (errors.get(code) ?? 0) + 1);
const countConnectError = (code: string) => connectErrors.set(code, (connectErrors.get(code) ?? 0) + 1);

function describe(error: unknown): string {
  if (Array.isArray(error)) return String(error[0]?.extensions?.code ?? error[0]?.message ?? 'GraphQL error');
  if (error && typeof error === 'object' && 'code' in error) return `socket closed ${(error as { code: unknown }).code}`;
  return error instanceof Error ? error.message : String(error);
}

type Reading = Record<string, { time?: string; meter?: { id?: string } } | undefined>;

/**
 * When the simulator emitted each reading: the worker's own subscription straight to the simulator
 * (BENCH_UPSTREAM_WS_URL, BENCH_UPSTREAM_AUTHORIZATION) notes when each one arrives, so a delay is what
 * the server under test adds, not the simulator's tick (a reading is emitted up to 250 ms after its receiveTime).
 * A copy through the server that comes first (both in one event-loop turn) counts as no delay.
 */
class Emissions {
  private readonly arrivals = new Map<string, number>();
  // Long enough for any copy through the server under test; short enough to stay small.
  private static readonly KEEP_MS = MAX_MS;

  constructor(upstreamUrl: string, authorization: string) {
    const upstream = createClient({ url: upstreamUrl, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: Infinity });
    upstream.subscribe<Reading>(
      { query: 'subscription { readings { time meter { id } } }' },
      { next: (result) => this.emittedAt(result.data), error: (error) => countError(`upstream probe: ${describe(error)}`), complete: () => undefined },
    );
    setInterval(() => {
      const oldest = Date.now() - Emissions.KEEP_MS;
      for (const [key, at] of this.arrivals) {
        if (at >= oldest) break;
        this.arrivals.delete(key);
      }
    }, 10_000).unref();
  }

  /** When the reading in `data` was emitted (now, if this is its first copy). */
  emittedAt(data: Reading | null | undefined): number | undefined {
    const reading = data ? Object.values(data)[0] : undefined;
    if (!reading?.time || !reading.meter?.id) return undefined;
    const key = `${reading.meter.id}@${Date.parse(reading.time)}`;
    let at = this.arrivals.get(key);
    if (at === undefined) this.arrivals.set(key, (at = Date.now()));
    return at;
  }
}

// Only runs that measure delays have one (the fan-out; not bench:idle-subscribers).
const emissions = process.env.BENCH_UPSTREAM_WS_URL ? new Emissions(process.env.BENCH_UPSTREAM_WS_URL, process.env.BENCH_UPSTREAM_AUTHORIZATION ?? '') : undefined;

/** The client's subscription, reporting its first result (or end) once, so the parent knows when all are live. */
function sinkFor(onFirst: () => void) {
  let first = true;
  const settle = () => {
    if (first) onFirst();
    first = false;
  };
  return {
    next: (result: { data?: Reading | null }) => {
      settle();
      if (!measuring || !result.data) return;
      const emittedAt = emissions?.emittedAt(result.data);
      if (emittedAt === undefined) return;
      received += 1;
      histogram[Math.min(MAX_MS, Math.max(0, Date.now() - emittedAt))]! += 1;
    },
    error: (error: unknown) => {
      settle();
      countError(describe(error));
    },
    complete: () => {
      settle();
      countError('completed');
    },
  };
}

/** A client with its connection acknowledged (connection_init / connection_ack), not yet subscribed. */
function open(connectionParams: Record<string, unknown>): Promise<Client | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (client: Client | undefined, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) countConnectError(error);
      resolve(client);
    };
    // A saturated server may never acknowledge; past the deadline the client counts as failed.
    const timer = setTimeout(() => {
      settle(undefined, 'connect timeout');
      void client.dispose();
    }, deadline - performance.now());
    const client: Client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams,
      lazy: false,
      retryAttempts: 0,
      on: {
        connected: () => settle(client),
        // Before `connected`, a close means the connection failed; after, the error is counted by the sink.
        closed: (event) => settle(undefined, `closed ${(event as { code?: number }).code ?? ''}`),
      },
      onNonLazyError: (error) => settle(undefined, `connect: ${describe(error)}`),
    });
  });
}

const clients: Client[] = [];

async function connect(all: Array<Record<string, unknown>>): Promise<void> {
  deadline = performance.now() + connectTimeoutMs;
  for (let opened = 0; opened < all.length && performance.now() < deadline; opened += WAVE) {
    const wave = await Promise.all(all.slice(opened, opened + WAVE).map(open));
    for (const client of wave) if (client) clients.push(client);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`${process.pid}: ${clients.length} connected, ${Math.round(performance.now())} ms\n`);
  }
  process.send!({ type: 'ready', connected: clients.length, failed: all.length - clients.length, connectErrors: Object.fromEntries(connectErrors) });
}

function main(): void {
  // A client whose socket the server closes may reject a promise nobody awaits (graphql-ws's close
  // event): it counts as an error of the run instead of ending the worker and the whole bench with it.
  process.on('unhandledRejection', (reason) => countError(`unhandled: ${describe(reason)}`));
  process.on('message', async (message: { type: string; connectionParams?: Array<Record<string, unknown>> }) => {
    if (message.type === 'connect') {
      await connect(message.connectionParams ?? []);
    } else if (message.type === 'subscribe') {
      let waiting = clients.length;
      const onFirst = () => {
        waiting -= 1;
        if (waiting === 0) process.send!({ type: 'live' });
      };
      if (waiting === 0) process.send!({ type: 'live' });
      for (const client of clients) client.subscribe<Reading>({ query }, sinkFor(onFirst));
    } else if (message.type === 'start') {
      received = 0;
      histogram.fill(0);
      measuring = true;
    } else if (message.type === 'stop') {
      measuring = false;
      // Sparse [ms, count] pairs keep the IPC message small.
      const delays: Array<[number, number]> = [];
      histogram.forEach((n, ms) => n > 0 && delays.push([ms, n]));
      process.send!({ type: 'result', received, delays, errors: Object.fromEntries(errors) });
    } else if (message.type === 'close') {
      await Promise.all(clients.map((client) => client.dispose()));
      process.exit(0);
    }
  });
}

main();
