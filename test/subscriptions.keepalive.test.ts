import WebSocket from 'ws';
import { subscribeWs, UNTIL_CLOSED } from './helpers/clients';
import { sleep, within } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

describe('WebSocket keepalive towards clients', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SUBSCRIPTION_CLIENT_KEEPALIVE: '1s' } });
  });
  afterAll(() => stack.close());

  it('disconnects a client that stops answering pings, and keeps one that answers', async () => {
    const healthy = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', UNTIL_CLOSED);
    healthy.done.catch(() => undefined);
    // A client whose network vanished: its socket is open but it never answers a ping.
    const silent = new WebSocket(stack.gateway.wsUrl, 'graphql-transport-ws', { autoPong: false });
    try {
    const closed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    let pings = 0;
    silent.on('ping', () => (pings += 1));
    await new Promise((resolve) => silent.once('open', resolve));
    silent.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => silent.once('message', resolve)); // connection_ack
    silent.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { readings { time } }' } }));

    // Terminated (no close frame: 1006) after one unanswered ping.
    expect(await within(closed, 15_000, 'the silent client to be terminated')).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);

    const before = healthy.results.length;
    await sleep(2_500);
    expect(healthy.results.length).toBeGreaterThan(before);
    } finally {
      silent.terminate();
      healthy.close();
    }
  });

  it('keeps sending SSE streams comment lines, so proxies keep an idle stream open', async () => {
    // yoga's SSE processor pings every 12 s, every 300 ms where NODE_ENV=test (as under jest).
    const abort = new AbortController();
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { readings { time } }' }),
      signal: abort.signal,
    });
    const decoder = new TextDecoder();
    let received = '';
    const pinged = (async () => {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received += decoder.decode(chunk, { stream: true });
        // One comment line opens the stream; the ones after it are the keep-alive.
        if ((received.match(/^:$/gm) ?? []).length >= 3) return;
      }
      throw new Error('the stream ended before its keep-alive comment lines');
    })();
    try {
      await within(pinged, 60_000, 'two keep-alive comment lines after the opening one');
      expect(received).toContain('event: next');
    } finally {
      abort.abort();
      await pinged.catch(() => undefined);
    }
  });
});
