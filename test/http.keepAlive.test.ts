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

  it('keeps an idle keep-alive connection open past HTTP_HEADERS_TIMEOUT: it bounds receiving a request, not waiting for one', async () => {
    const stack = await startStack({ env: { HTTP_HEADERS_TIMEOUT: '1s', HTTP_REQUEST_TIMEOUT: '1s' } });
    stacks.push(stack);
    const connection = await idleConnection(stack.gateway.url);
    // Well past both timeouts and Node's check interval.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(connection.closed()).toBe(false);
    connection.socket.destroy();
  });
});

describe('slow clients', () => {
  const stacks: Stack[] = [];
  afterAll(() => Promise.all(stacks.map((stack) => stack.close())));

  /** A raw connection that has sent `bytes` and then nothing more. */
  function stalledRequest(url: string, bytes: string): { closed: () => boolean; received: () => string; socket: Socket } {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    let closed = false;
    let received = '';
    socket.once('close', () => (closed = true));
    socket.on('error', () => {});
    socket.on('data', (chunk) => (received += chunk));
    socket.write(bytes);
    return { closed: () => closed, received: () => received, socket };
  }

  it('get 408 and lose the connection when their headers take longer than HTTP_HEADERS_TIMEOUT', async () => {
    const stack = await startStack({ env: { HTTP_HEADERS_TIMEOUT: '1s' } });
    stacks.push(stack);
    const request = stalledRequest(stack.gateway.url, `GET /healthz HTTP/1.1\r\nHost: gateway\r\n`);
    await waitFor(() => request.closed(), 15_000);
    expect(request.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('get 408 and lose the connection when their body takes longer than HTTP_REQUEST_TIMEOUT', async () => {
    const stack = await startStack({ env: { HTTP_HEADERS_TIMEOUT: '1s', HTTP_REQUEST_TIMEOUT: '2s' } });
    stacks.push(stack);
    const request = stalledRequest(
      stack.gateway.url,
      `POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`,
    );
    await waitFor(() => request.closed(), 15_000);
    expect(request.received()).toMatch(/^HTTP\/1\.1 408/);
  });
});
