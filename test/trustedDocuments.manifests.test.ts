import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { jose } from '../src/identity/jose';
import { waitFor } from './helpers/simulator';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

/*
 * Trusted documents as GraphQL Codegen's client preset emits them: a manifest per app version (a
 * directory of them, all in force), documents named by `documentId`, reloaded on change without a restart.
 */

const SECRET = 'manifests-test-secret-with-32-characters!';
const sha256 = (document: string) => createHash('sha256').update(document).digest('hex');
const V1 = 'query V1 { me { externalId } }';
const V2 = 'query V2 { me { name } }';
const V3 = 'query V3 { me { externalId name } }';

describe('trusted-document manifests (PERSISTED_OPERATIONS_FILE as a directory)', () => {
  let stack: Stack;
  let dir: string;
  let customer: Record<string, string>;

  const byDocumentId = async (documentId: string) => {
    const response = await fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...customer }, body: JSON.stringify({ documentId }) });
    return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions: { code: string } }> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    writeFileSync(join(dir, 'app-1.0.json'), JSON.stringify({ [sha256(V1)]: V1 }));
    writeFileSync(join(dir, 'app-1.1.json'), JSON.stringify({ [sha256(V1)]: V1, [sha256(V2)]: V2 }));
    stack = await startStack({ env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false', PERSISTED_OPERATIONS_FILE: dir } });
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001'] });
    const token = await new jose.SignJWT({ role: 'customer', externalId: 'C-1001' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('app-user')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    customer = { authorization: `Bearer ${token}` };
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs documents of every manifest by documentId, plain or sha256:-prefixed, over POST and GET', async () => {
    expect((await byDocumentId(sha256(V1))).data).toEqual({ me: { externalId: 'C-1001' } });
    expect((await byDocumentId(`sha256:${sha256(V2)}`)).data.me.name).toEqual(expect.any(String));
    const overGet = await fetch(`${stack.gateway.url}?${new URLSearchParams({ documentId: sha256(V1) })}`, { headers: customer });
    expect(await overGet.json()).toEqual({ data: { me: { externalId: 'C-1001' } } });
    expect((await byDocumentId(sha256(V3))).errors?.[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('picks up a new app version and a changed manifest without a restart, and keeps the documents when a change is broken', async () => {
    writeFileSync(join(dir, 'app-1.2.json'), JSON.stringify({ [sha256(V3)]: V3 }));
    await waitFor(async () => (await byDocumentId(sha256(V3))).data !== undefined, 20_000, 'the new manifest to be loaded');
    expect((await byDocumentId(sha256(V3))).data.me).toEqual({ externalId: 'C-1001', name: expect.any(String) });

    // Version 1.1 retired: V2 is in no manifest any more.
    rmSync(join(dir, 'app-1.1.json'));
    await waitFor(async () => (await byDocumentId(sha256(V2))).errors !== undefined, 20_000, 'the removed manifest to be unloaded');
    expect((await byDocumentId(sha256(V2))).errors?.[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    writeFileSync(join(dir, 'app-1.3.json'), '{ not json');
    await waitFor(async () => stack.logs.some((line) => line.includes('trusted documents unchanged')), 20_000, 'the broken manifest to be reported');
    expect((await byDocumentId(sha256(V3))).data.me.externalId).toBe('C-1001');
  });
});
