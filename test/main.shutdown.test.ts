import { createClient, type Client } from 'graphql-ws';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import { postGraphQL } from './helpers/clients';
import { kill } from './helpers/childProcesses';
import { frontingEnv, startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess';
import { staffAuthorization } from './helpers/tokens';
import { waitFor } from './helpers/simulator';

const JWT_SECRET = 'shutdown-test-jwt-secret-of-32-characters';
// A child process that compiles the gateway with tsx starts slowly on a busy machine.
const STARTUP_MS = 90_000;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

async function connectionRefused(url: string): Promise<boolean> {
  try {
    await fetch(url.replace('/graphql', '/healthz'));
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

/** A connection whose request has begun but not yet ended, as a request arriving at the moment shutdown starts. */
async function requestBegun(url: string, path: string): Promise<{ socket: Socket; finish(): Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n`);
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  const ended = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return {
    socket,
    finish: () => {
      socket.write('\r\n');
      return ended;
    },
  };
}

describe('graceful shutdown of npm start on SIGTERM', () => {
  let simulator: RunningSimulator;
  let gateway: GatewayProcess;
  let client: Client | undefined;

  beforeEach(async () => {
    simulator = await startSimulator({ readingIntervalMs: 200 });
  });
  afterEach(async () => {
    simulator.faults.hold = undefined;
    await kill(gateway.child);
    await client?.dispose();
    await simulator.close();
  });

  async function startGateway(env: Record<string, string> = {}): Promise<{ url: string; wsUrl: string; authorization: string }> {
    gateway = startGatewayProcess({
      ...frontingEnv(simulator),
      AUTH_JWT_SECRET: JWT_SECRET,
      CACHE_TTL: '0',
      // The test holds IOmeter's answer for as long as it needs; the upstream timeout must not answer first.
      IOMETER_TIMEOUT: '300s',
      // The archive's (and the usage alerts') own upstream traffic would blur which requests the test sent.
      ARCHIVE_ENABLED: 'false',
      USAGE_ALERTS_ENABLED: 'false',
      ...env,
    });
    const url = await gateway.ready(STARTUP_MS);
    return { url, wsUrl: url.replace(/^http/, 'ws'), authorization: await staffAuthorization(JWT_SECRET) };
  }

  it('refuses new connections, finishes the request in flight, completes subscriptions, closes WebSockets with 1001 and exits 0', async () => {
    // Far longer than the test needs: the test itself lets the held request go, so this only rules out
    // the deadline cutting in on a slow machine.
    const { url, wsUrl, authorization } = await startGateway({ SHUTDOWN_TIMEOUT: '180s' });

    // An open live-readings subscription on a socket the client keeps open.
    let completed = false;
    let closeCode: number | undefined;
    let readings = 0;
    client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization },
      lazy: false,
      // The close is what this test waits for; it is recorded below, not an error to print.
      onNonLazyError: () => {},
      retryAttempts: 0,
      on: { closed: (event) => (closeCode = (event as { code: number }).code) },
    });
    client.subscribe(
      { query: 'subscription { readings { time } }' },
      { next: () => (readings += 1), error: () => {}, complete: () => (completed = true) },
    );
    await waitFor(() => readings > 0, 60_000);

    // A query that IOmeter holds until the test lets it go.
    const held = deferred();
    simulator.faults.hold = held.promise;
    const arrived = simulator.stats.httpRequests;
    let answered = false;
    const inFlight = postGraphQL(url, 'query Slow { provider { id } }', undefined, { authorization }).finally(() => (answered = true));
    // Handled here so that a test failing before the await below does not leave it to a later test.
    inFlight.catch(() => undefined);
    await waitFor(() => simulator.stats.httpRequests > arrived, 60_000);
    const lateRequest = await requestBegun(url, '/healthz');
    const lateReadiness = await requestBegun(url, '/readyz');

    gateway.child.kill('SIGTERM');
    await waitFor(() => connectionRefused(url), 60_000);
    await waitFor(() => completed, 60_000);
    expect(answered).toBe(false);
    expect(closeCode).toBeUndefined();

    // A request that reaches the draining gateway on an open connection is answered, and its
    // connection closed, so that the client's next request goes to another replica.
    const lateResponse = await lateRequest.finish();
    expect(lateResponse).toMatch(/^HTTP\/1\.1 200 /);
    expect(lateResponse).toMatch(/\r\nconnection: close\r\n/i);
    // Readiness while draining: 503, so that load balancers stop sending this replica traffic.
    const readinessWhileDraining = await lateReadiness.finish();
    expect(readinessWhileDraining).toMatch(/^HTTP\/1\.1 503 /);
    expect(readinessWhileDraining).toContain('{"status":"unavailable","checks":{"gateway":"down: shutting down"}}');

    held.resolve();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    expect(response.body).toEqual({ data: { provider: { id: simulator.provider.id } } });
    expect(await gateway.exited).toBe(0);
    expect(closeCode).toBe(1001);
    expect(gateway.output()).toContain('shut down cleanly');
    expect(gateway.output()).not.toContain('shutdown deadline reached');
  }, 300_000);

  it('cuts requests that outlast SHUTDOWN_TIMEOUT and still exits 0', async () => {
    const { url, authorization } = await startGateway({ SHUTDOWN_TIMEOUT: '1s' });
    simulator.faults.hold = new Promise(() => {});
    const arrived = simulator.stats.httpRequests;
    const inFlight = postGraphQL(url, 'query Stuck { provider { id } }', undefined, { authorization }).then(
      () => 'answered',
      () => 'cut off',
    );
    await waitFor(() => simulator.stats.httpRequests > arrived, 60_000);

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(await inFlight).toBe('cut off');
    expect(gateway.output()).toContain('shutdown deadline reached');
  }, 240_000);
});
