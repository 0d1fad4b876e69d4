import WebSocket from 'ws';
import { subscribeWs } from './helpers/clients';
import { sleep, within } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

describe('WebSocket keepalive towards clients', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SUBSCRIPTION_CLIENT_KEEPALIVE: '1s' } });
  });
  afterAll(() => stack.close());

  it('disconnects a client that stops answering pings, and keeps one that answers', async () => {
    const healthy = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', 1_000_000);
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
});
