import { createServer, type AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MeterReadingPayload, ReadingHub } from '../src/subscriptions';
import { basicAuth, sleep, waitFor } from './helpers/simulator';
import { closedAfterEach, Collector, expectNoGapNoDuplicate, hubFor, simulatorForFile } from './helpers/subscriptions';

const sim = simulatorForFile({ seed: 5, installations: 6, readingIntervalMs: 100, historyMs: 60_000, duplicateRate: 0.3 });
const hubs = closedAfterEach<ReadingHub>();

const receiveMs = (reading: MeterReadingPayload) => Date.parse(reading.receiveTime);
const codeOf = (error: unknown) => (error as { extensions?: { code?: string } })?.extensions?.code;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface FakeSubscribe {
  id: string;
  variables: { startTime?: string };
  send: (message: object) => void;
  socket: WebSocket;
}

/** A scripted graphql-transport-ws upstream: acknowledges every connection, never pongs, and leaves subscriptions to `onSubscribe`. */
async function fakeUpstream(onSubscribe: (subscribe: FakeSubscribe) => void) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  let connections = 0;
  server.on('connection', (socket) => {
    connections += 1;
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack' }));
      if (message.type === 'subscribe') {
        const send = (reply: object) => socket.send(JSON.stringify(reply));
        onSubscribe({ id: message.id, variables: message.payload.variables ?? {}, send, socket });
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/query`,
    connections: () => connections,
    close: () => {
      server.clients.forEach((socket) => socket.terminate());
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('upstream drops', () => {
  it('opens with a look-back of overlapMs and resumes from the last receiveTime minus overlapMs', async () => {
    const reading = {
      meter: { id: 'm-1', number: '1EMH0007058153' },
      installation: { id: 'i-1', externalId: 'C-1001' },
      time: new Date(Date.now() - 1_000).toISOString(),
      receiveTime: new Date(Date.now() - 600).toISOString(),
      values: [{ obisCode: '1-0:1.8.0', value: 1, unit: 'Wh' }],
    };
    const startTimes: string[] = [];
    let firstSubscribeSeenAt = 0;
    const upstream = await fakeUpstream(({ id, variables, send, socket }) => {
      startTimes.push(variables.startTime!);
      if (startTimes.length === 1) firstSubscribeSeenAt = Date.now();
      // The first connection delivers one reading and dies; the resumed one repeats it, as an overlap does.
      send({ id, type: 'next', payload: { data: { readings: reading } } });
      if (startTimes.length === 1) setTimeout(() => socket.terminate(), 50);
    });
    try {
      const hub = hubFor(sim(), { url: upstream.url, overlapMs: 5_000 }, hubs);
      const openedAt = Date.now();
      const client = new Collector(hub.subscribe());
      await waitFor(() => startTimes.length === 2, 15_000, 'the resumed upstream subscription');
      await waitFor(() => hub.stats.duplicatesDropped === 1, 15_000, 'the overlap\'s repeated reading to be dropped');

      // The look-back is counted from the moment the hub opened, which lies between these two.
      expect(Date.parse(startTimes[0]!)).toBeGreaterThanOrEqual(openedAt - 5_000);
      expect(Date.parse(startTimes[0]!)).toBeLessThanOrEqual(firstSubscribeSeenAt - 5_000);
      expect(startTimes[1]).toBe(new Date(Date.parse(reading.receiveTime) - 5_000).toISOString());
      expect(client.items).toHaveLength(1);
      expect(hub.stats.duplicatesDropped).toBe(1);
    } finally {
      await upstream.close();
    }
  });

  it('loses no reading and repeats none across a forced outage, with upstream duplicates on', async () => {
    const hub = hubFor(sim(), { overlapMs: 5_000 }, hubs);
    const client = new Collector(hub.subscribe());
    await client.until((items) => items.length >= 100);

    // An outage of about two seconds: every connection the hub manages to open in it is cut again.
    const outageStart = Date.now();
    while (Date.now() - outageStart < 2_000) {
      sim().dropConnections();
      await sleep(50);
    }
    const outageEnd = Date.now();
    await client.until((items) => receiveMs(items.at(-1)!) > outageEnd + 1_500);
    await client.stop();

    expect(sim().stats.connectionInitPayloads.length).toBeGreaterThanOrEqual(2);
    expect(receiveMs(client.items[0])).toBeLessThan(outageStart);
    // ~60 readings/s over 4+ s, outage included.
    expect(await expectNoGapNoDuplicate(sim(), client.items)).toBeGreaterThan(200);
    expect(hub.stats.duplicatesDropped).toBeGreaterThan(0);
  });
});

describe('upstream failures reach clients promptly', () => {
  it('UPSTREAM_UNAUTHORIZED when the credentials are refused, after exactly one connection attempt', async () => {
    const hub = hubFor(sim(), { authorization: basicAuth(sim().token, 'wrong-secret') }, hubs);
    const clients = [new Collector(hub.subscribe()), new Collector(hub.subscribe({ externalId: 'C-1001' }))];
    await Promise.all(clients.map((client) => client.ended()));
    for (const client of clients) {
      expect(codeOf(client.error)).toBe('UPSTREAM_UNAUTHORIZED');
      expect(client.items).toEqual([]);
    }

    // Promptly means without retrying refused credentials: a second later there was still one attempt.
    await sleep(1_000);
    expect(sim().stats.connectionInitPayloads).toHaveLength(1);
    expect(hub.stats).toMatchObject({ clients: 0, upstreamSubscriptions: 0 });
  });

  it('UPSTREAM_UNAVAILABLE once the upstream has been unreachable for the retry budget', async () => {
    const hub = hubFor(sim(), { url: `ws://127.0.0.1:${await closedPort()}/v1/query`, retryBudgetMs: 1_500 }, hubs);
    const startedAt = Date.now();
    const client = new Collector(hub.subscribe());
    await client.ended();
    const elapsed = Date.now() - startedAt;

    expect(codeOf(client.error)).toBe('UPSTREAM_UNAVAILABLE');
    // Not before the retry budget was spent (no upper bound: a busy machine only makes it later).
    expect(elapsed).toBeGreaterThanOrEqual(1_450);
    expect(hub.stats).toMatchObject({ clients: 0, upstreamSubscriptions: 0 });
  });

  it('UPSTREAM_ERROR when the upstream answers the subscription with GraphQL errors', async () => {
    const upstream = await fakeUpstream(({ id, send }) => send({ id, type: 'error', payload: [{ message: 'boom' }] }));
    try {
      const hub = hubFor(sim(), { url: upstream.url }, hubs);
      const client = new Collector(hub.subscribe());
      await client.ended();
      expect(codeOf(client.error)).toBe('UPSTREAM_ERROR');
      expect(upstream.connections()).toBe(1);
    } finally {
      await upstream.close();
    }
  });
});

describe('keepalive', () => {
  it('drops and reopens a connection whose upstream stops answering pings, without failing clients', async () => {
    const upstream = await fakeUpstream(() => undefined);
    try {
      const hub = hubFor(sim(), { url: upstream.url, keepAliveMs: 100, retryBudgetMs: 5_000 }, hubs);
      const client = new Collector(hub.subscribe());
      await waitFor(() => upstream.connections() >= 3, 3_000);
      expect(client).toMatchObject({ done: false, error: undefined });
    } finally {
      await upstream.close();
    }
  });
});

describe('slow clients', () => {
  it('closes a client that stops reading with SLOW_CONSUMER while the others keep receiving', async () => {
    // The feed opens with a 2 s look-back: a burst of ~120 readings, over the bound even for the fast client.
    const hub = hubFor(sim(), { bufferSize: 50, slowConsumerMs: 300 }, hubs);
    const slow = hub.subscribe();
    const fast = new Collector(hub.subscribe());
    await waitFor(() => hub.stats.clients === 1, 5_000);
    const atFailure = fast.items.length;

    await expect(slow.next()).rejects.toMatchObject({ extensions: { code: 'SLOW_CONSUMER' } });
    await expect(slow.next()).resolves.toEqual({ value: undefined, done: true });
    await fast.until((items) => items.length >= atFailure + 30);
    expect(fast.error).toBeUndefined();
    expect(fast.items.length).toBeGreaterThan(50);
  });
});
