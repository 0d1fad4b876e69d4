import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey } from '../src/identity';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';
import { customerHeaders } from './helpers/tokens';

/*
 * Automatic persisted queries (APQ) through HTTP, as Apollo's clients speak it: a hash alone first,
 * `PersistedQueryNotFound`, then the document with its hash (registered), then the hash alone again.
 */

const SECRET = 'apq-test-secret-with-at-least-32-characters';
const STAFF_KEY = 'apq-staff-key';
const ENV = { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, AUTH_API_KEYS: `ops:staff:${hashApiKey(STAFF_KEY)}`, RATE_LIMIT_ENABLED: 'false' };
const staff = { 'x-api-key': STAFF_KEY };

const sha256 = (document: string) => createHash('sha256').update(document).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

const customer = (externalId: string) => customerHeaders(SECRET, externalId);

async function send(url: string, body: Record<string, unknown>, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** As Apollo Client sends APQ queries: GET with the hash in `extensions`. */
async function sendGet(url: string, hash: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}?${new URLSearchParams({ extensions: JSON.stringify(persisted(hash)) })}`, { headers });
  return { status: response.status, body: await response.json() };
}

describe.each([
  ['in-memory', false],
  ['Redis', true],
])('APQ (%s store)', (_store, useRedis) => {
  const prefix = uniqueKeyPrefix('test-apq');
  const env = { ...ENV, ...(useRedis ? { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}) };
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env });
  });
  afterAll(async () => {
    await stack?.close();
    if (useRedis) await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
  });

  it('answers an unknown hash with PersistedQueryNotFound, registers the document sent with it, then runs the hash alone', async () => {
    const document = `query Apq${useRedis ? 'Redis' : 'Memory'} { provider { name } }`;
    const hash = sha256(document);
    const unknown = await send(stack.gateway.url, { extensions: persisted(hash) }, staff);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });

    const registered = await send(stack.gateway.url, { query: document, extensions: persisted(hash) }, staff);
    expect(registered.body.data.provider.name).toEqual(expect.any(String));

    expect((await send(stack.gateway.url, { extensions: persisted(hash) }, staff)).body).toEqual(registered.body);
    expect((await sendGet(stack.gateway.url, hash, staff)).body).toEqual(registered.body);
  });

  it('refuses a document whose hash is not its own, and never registers an invalid document', async () => {
    const mismatch = await send(stack.gateway.url, { query: '{ __typename }', extensions: persisted(sha256('{ other }')) }, staff);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');

    const invalid = '{ noSuchField }';
    const refused = await send(stack.gateway.url, { query: invalid, extensions: persisted(sha256(invalid)) }, staff);
    expect(refused.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await send(stack.gateway.url, { extensions: persisted(sha256(invalid)) }, staff)).body.errors[0].message).toBe('PersistedQueryNotFound');

    const nothing = await send(stack.gateway.url, {}, staff);
    expect(nothing).toEqual({ status: 400, body: { errors: [{ message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST' } }] } });
  });

  if (useRedis) {
    it('shares registered documents between replicas through Redis', async () => {
      const replica = await startStack({ env, sharedSimulator: stack.simulator });
      try {
        const document = 'query Shared { provider { id } }';
        expect((await send(stack.gateway.url, { query: document, extensions: persisted(sha256(document)) }, staff)).body.data).toBeDefined();
        expect((await send(replica.gateway.url, { extensions: persisted(sha256(document)) }, staff)).body.data.provider.id).toEqual(expect.any(String));
      } finally {
        await replica.close();
      }
    });
  }
});

describe('APQ under a trusted-documents list', () => {
  let stack: Stack;
  let dir: string;
  const trusted = '{ me { externalId } }';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apq-trusted-'));
    const file = join(dir, 'operations.json');
    writeFileSync(file, JSON.stringify({ [sha256(trusted)]: trusted }));
    stack = await startStack({ env: { ...ENV, PERSISTED_OPERATIONS_FILE: file } });
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets staff register documents, while customers stay limited to the trusted ones', async () => {
    const document = 'query StaffOnly { provider { name } }';
    const hash = sha256(document);
    expect((await send(stack.gateway.url, { extensions: persisted(hash) }, staff)).body.errors[0].message).toBe('PersistedQueryNotFound');
    expect((await send(stack.gateway.url, { query: document, extensions: persisted(hash) }, staff)).body.data).toBeDefined();
    expect((await send(stack.gateway.url, { extensions: persisted(hash) }, staff)).body.data.provider.name).toEqual(expect.any(String));

    const c1001 = await customer('C-1001');
    // A customer neither registers nor runs what staff registered: the trusted list is all there is.
    const registering = await send(stack.gateway.url, { query: document, extensions: persisted(hash) }, c1001);
    expect(registering.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
    const byHash = await send(stack.gateway.url, { extensions: persisted(hash) }, c1001);
    expect(byHash.body.errors[0]).toMatchObject({ message: 'Unknown trusted document.', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
    expect((await send(stack.gateway.url, { extensions: persisted(sha256(trusted)) }, c1001)).body.errors).toBeUndefined();
  });
});
