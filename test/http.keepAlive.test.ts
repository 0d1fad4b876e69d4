import { connect, type Socket } from 'node:net';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/simulator';

/** A raw connection that has had one /healthz request answered and is now idle. */
async function idleConnection(url: string): Promise<{ socket: Socket; response: string; closed: () => boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let closed = false;
  socket.once('close', () => (closed = true));
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  await waitFor(() => received.includes('\r\n\r\n'), 10_000);
  return { socket, response: received, closed: () => closed };
}

describe('HTTP keep-alive', () => {
  const stacks: Stack[] = [];
  afterAll(() => Promise.all(stacks.map((stack) => stack.close())));

  it('keeps idle connections open for 65 s by default, longer than a load balancer keeps its own', async () => {
    const stack = await startStack();
    stacks.push(stack);
    const connection = await idleConnection(stack.gateway.url);
    expect(connection.response).toMatch(/\r\nKeep-Alive: timeout=65\r\n/i);
    // Past Node's own default of 5 s.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(connection.closed()).toBe(false);
    connection.socket.destroy();
  });

  it('closes idle connections after HTTP_KEEPALIVE_TIMEOUT', async () => {
    const stack = await startStack({ env: { HTTP_KEEPALIVE_TIMEOUT: '1s' } });
    stacks.push(stack);
    const connection = await idleConnection(stack.gateway.url);
    expect(connection.response).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    await waitFor(() => connection.closed(), 10_000);
  });
});
