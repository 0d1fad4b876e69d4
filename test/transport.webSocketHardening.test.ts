import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { jose } from '../src/identity/jose';
import { waitFor } from './helpers/simulator';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

const SECRET = 'ws-hardening-secret-with-32-characters!!';
/** Tests here start whole stacks; on a busy machine that alone can take most of jest's default 30 s. */
const STACK_MS = 90_000;
const MY_READINGS = 'subscription MyReadings { myReadings { time } }';
const MY_READINGS_HASH = createHash('sha256').update(MY_READINGS).digest('hex');

async function bearer(claims: Record<string, unknown>, expiresIn = '10m'): Promise<string> {
  const jwt = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub ?? 'user'))
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(SECRET));
  return `Bearer ${jwt}`;
}

/** A graphql-transport-ws connection spoken by hand, so messages graphql-ws's client never sends can be sent. */
interface RawConnection {
  messages: any[];
  closed?: { code: number; reason: string };
  send(message: object | string): void;
  /** The messages about operation `id`. */
  of(id: string): any[];
  close(): void;
}

async function connect(url: string, authorization: string): Promise<RawConnection> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const connection: RawConnection = {
    messages: [],
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    of: (id) => connection.messages.filter((message) => message.id === id),
    close: () => socket.close(),
  };
  socket.on('message', (data) => connection.messages.push(JSON.parse(String(data))));
  socket.on('close', (code, reason) => (connection.closed = { code, reason: String(reason) }));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('open', resolve));
  connection.send({ type: 'connection_init', payload: { authorization } });
  await waitFor(() => connection.messages.some((message) => message.type === 'connection_ack') || connection.closed !== undefined, 10_000);
  return connection;
}

describe('WebSocket operations are bounded and isolated like HTTP ones', () => {
  let stack: Stack;
  let dir: string;
  let staff: string;
  const open: RawConnection[] = [];
  const connectAs = async (authorization: string) => {
    const connection = await connect(stack.gateway.wsUrl, authorization);
    open.push(connection);
    return connection;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ws-trusted-'));
    const file = join(dir, 'operations.json');
    writeFileSync(file, JSON.stringify({ [MY_READINGS_HASH]: MY_READINGS }));
    stack = await startStack({ env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, PERSISTED_OPERATIONS_FILE: file } });
    staff = await bearer({ role: 'staff', sub: 'ops' });
  }, STACK_MS);
  afterAll(async () => {
    for (const connection of open) connection.close();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a document over LIMIT_MAX_DOCUMENT_BYTES for that operation, echoing none of it', async () => {
    const connection = await connectAs(staff);
    const literal = 'L'.repeat(40_000);
    connection.send({ id: 'big', type: 'subscribe', payload: { query: `{ provider { installation(externalId: "${literal}") { id } } }` } });
    await waitFor(() => connection.of('big').length > 0, 10_000);
    const [answer] = connection.of('big');
    expect(answer.type).toBe('error');
    expect(answer.payload).toEqual([expect.objectContaining({ extensions: { code: 'BAD_REQUEST' } })]);
    expect(JSON.stringify(answer).length).toBeLessThan(1_000);
    expect(connection.closed).toBeUndefined();
  });

  it('closes a socket sending a message far larger than any document (1009)', async () => {
    const connection = await connectAs(staff);
    connection.send({ id: 'huge', type: 'subscribe', payload: { query: '{ __typename }', variables: { blob: 'B'.repeat(5_000_000) } } });
    await waitFor(() => connection.closed !== undefined, 10_000);
    expect(connection.closed!.code).toBe(1009);
  });

  it('answers a syntax error with an error for that operation and keeps the socket and its other operations', async () => {
    const connection = await connectAs(staff);
    connection.send({ id: 'live', type: 'subscribe', payload: { query: 'subscription { readings { time } }' } });
    await waitFor(() => connection.of('live').some((message) => message.type === 'next'), 10_000);
    connection.send({ id: 'broken', type: 'subscribe', payload: { query: 'query {' } });
    await waitFor(() => connection.of('broken').length > 0, 10_000);
    expect(connection.of('broken')[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });

    const delivered = connection.of('live').length;
    await waitFor(() => connection.of('live').length > delivered, 10_000);
    expect(connection.closed).toBeUndefined();
  });

  it('runs a trusted document subscribed by hash only, the standard persisted-operation message', async () => {
    const connection = await connectAs(await bearer({ role: 'customer', externalId: 'C-1001', sub: 'c1001' }));
    connection.send({ id: 'hashed', type: 'subscribe', payload: { extensions: { persistedQuery: { version: 1, sha256Hash: MY_READINGS_HASH } } } });
    await waitFor(() => connection.of('hashed').some((message) => message.type === 'next') || connection.closed !== undefined, 10_000);
    expect(connection.closed).toBeUndefined();
    expect(connection.of('hashed')[0]).toMatchObject({ type: 'next', payload: { data: { myReadings: { time: expect.any(String) } } } });
  });

  it('closes the socket with 4403 "token expired" when its JWT expires', async () => {
    const connection = await connectAs(await bearer({ role: 'customer', externalId: 'C-1001', sub: 'c1001' }, '3s'));
    connection.send({ id: 'live', type: 'subscribe', payload: { query: MY_READINGS } });
    await waitFor(() => connection.closed !== undefined, 15_000);
    expect(connection.closed).toEqual({ code: 4403, reason: 'token expired' });
  });
});
