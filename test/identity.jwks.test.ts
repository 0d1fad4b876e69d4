import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createAuthenticator, type AuthOptions, type Identity } from '../src/identity';
import { jose } from '../src/identity/jose';

type KeyPair = Awaited<ReturnType<typeof jose.generateKeyPair>>;
type PublicJwk = Awaited<ReturnType<typeof jose.exportJWK>>;

let server: Server;
let baseUrl: string;
let rsa: KeyPair;
let ec: KeyPair;
let rotatedA: KeyPair;
let rotatedB: KeyPair;
let stranger: KeyPair;
const routes = new Map<string, { status: number; body: string }>();
const requests: string[] = [];

const now = () => Math.floor(Date.now() / 1000);
const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });
const jwk = async (pair: KeyPair, extra: Partial<PublicJwk>) => ({ ...(await jose.exportJWK(pair.publicKey)), use: 'sig', ...extra });

beforeAll(async () => {
  [rsa, ec, rotatedA, rotatedB, stranger] = await Promise.all([
    jose.generateKeyPair('RS256'),
    jose.generateKeyPair('ES256'),
    jose.generateKeyPair('RS256'),
    jose.generateKeyPair('RS256'),
    jose.generateKeyPair('RS256'),
  ]);
  const json = (value: unknown) => ({ status: 200, body: JSON.stringify(value) });
  routes.set('/jwks', json({ keys: [await jwk(rsa, { kid: 'rsa-1', alg: 'RS256' }), await jwk(ec, { kid: 'ec-1', alg: 'ES256' })] }));
  // Two RSA keys without kid, as during a key rotation by an issuer that omits kid.
  routes.set('/rotating', json({ keys: [await jwk(rotatedA, {}), await jwk(rotatedB, {})] }));
  routes.set('/broken', { status: 500, body: 'oops' });
  routes.set('/not-json', { status: 200, body: '<html>' });

  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const route = routes.get(request.url ?? '') ?? { status: 404, body: 'not found' };
    response.writeHead(route.status, { 'content-type': 'application/json' }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function authenticator(path: string, overrides: Partial<AuthOptions> = {}) {
  return createAuthenticator({
    jwksUrl: `${baseUrl}${path}`,
    issuer: 'https://idp.example/',
    audience: 'iometer-gateway',
    roleClaim: 'role',
    externalIdClaim: 'externalId',
    apiKeys: [],
    sandbox: false,
    ...overrides,
  });
}

function sign(
  claims: Record<string, unknown>,
  alg: 'RS256' | 'ES256' | 'HS256',
  key: CryptoKey | Uint8Array,
  kid?: string,
): Promise<string> {
  return new jose.SignJWT(claims)
    .setProtectedHeader(kid ? { alg, kid } : { alg })
    .setSubject('user-7')
    .setIssuer('https://idp.example/')
    .setAudience('iometer-gateway')
    .setIssuedAt()
    .setExpirationTime(now() + 600)
    .sign(key);
}

async function failure(attempt: Promise<Identity>, token: string): Promise<GraphQLError> {
  const error = await attempt.then(
    (identity) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(identity)}`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  expect(JSON.stringify((error as GraphQLError).toJSON())).not.toContain(token);
  return error as GraphQLError;
}

async function unauthenticated(attempt: Promise<Identity>, token: string): Promise<string | undefined> {
  const error = await failure(attempt, token);
  expect(error.message).toBe('Invalid or expired token.');
  expect(error.extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } });
  return error.originalError?.message;
}

describe('JWT through a JWKS URL', () => {
  it('verifies RS256 and ES256 tokens from the key set', async () => {
    const authenticate = authenticator('/jwks');
    const staff = await sign({ role: 'staff' }, 'RS256', rsa.privateKey, 'rsa-1');
    await expect(authenticate(bearer(staff))).resolves.toEqual({ role: 'staff', subject: 'user-7', via: 'jwt' });
    const customer = await sign({ role: 'customer', externalId: 'C-1004' }, 'ES256', ec.privateKey, 'ec-1');
    await expect(authenticate(bearer(customer))).resolves.toEqual({
      role: 'customer',
      subject: 'user-7',
      via: 'jwt',
      externalId: 'C-1004',
    });
  });

  it('fetches the key set once and caches it', async () => {
    const authenticate = authenticator('/jwks');
    const before = requests.filter((url) => url === '/jwks').length;
    for (let i = 0; i < 3; i += 1) {
      await authenticate(bearer(await sign({ role: 'staff' }, 'RS256', rsa.privateKey, 'rsa-1')));
    }
    expect(requests.filter((url) => url === '/jwks').length - before).toBe(1);
  });

  it('finds the key for a token without kid', async () => {
    const token = await sign({ role: 'staff' }, 'ES256', ec.privateKey);
    await expect(authenticator('/jwks')(bearer(token))).resolves.toMatchObject({ role: 'staff' });
  });

  it('tries every candidate key when several fit a token without kid', async () => {
    const authenticate = authenticator('/rotating');
    for (const pair of [rotatedA, rotatedB]) {
      const token = await sign({ role: 'staff' }, 'RS256', pair.privateKey);
      await expect(authenticate(bearer(token))).resolves.toMatchObject({ role: 'staff' });
    }
    const foreign = await sign({ role: 'staff' }, 'RS256', stranger.privateKey);
    expect(await unauthenticated(authenticate(bearer(foreign)), foreign)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  describe('rejects', () => {
    it('an RS256 token signed by a key that is not in the key set', async () => {
      const authenticate = authenticator('/jwks');
      const sameKid = await sign({ role: 'staff' }, 'RS256', stranger.privateKey, 'rsa-1');
      expect(await unauthenticated(authenticate(bearer(sameKid)), sameKid)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
      const unknownKid = await sign({ role: 'staff' }, 'RS256', stranger.privateKey, 'rsa-unknown');
      expect(await unauthenticated(authenticate(bearer(unknownKid)), unknownKid)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    });

    it('an HS256 token when only a JWKS is configured', async () => {
      const token = await sign({ role: 'staff' }, 'HS256', new TextEncoder().encode('s'.repeat(32)));
      expect(await unauthenticated(authenticator('/jwks')(bearer(token)), token)).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    });

    it('an HS256 token whose HMAC key is the public RSA key (algorithm confusion)', async () => {
      const publicPem = await jose.exportSPKI(rsa.publicKey);
      const token = await sign({ role: 'staff' }, 'HS256', new TextEncoder().encode(publicPem), 'rsa-1');
      expect(await unauthenticated(authenticator('/jwks')(bearer(token)), token)).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    });

    it('a token signed with the ES256 key but labelled RS256 (key type confusion)', async () => {
      const [header, payload, signature] = (await sign({ role: 'staff' }, 'ES256', ec.privateKey, 'ec-1')).split('.');
      const relabelled = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'ec-1' })).toString('base64url');
      const token = `${relabelled}.${payload}.${signature}`;
      expect(header).not.toBe(relabelled);
      expect(await unauthenticated(authenticator('/jwks')(bearer(token)), token)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    });

    it('a token from the key set with the wrong issuer or audience', async () => {
      const authenticate = authenticator('/jwks');
      const wrongIssuer = await new jose.SignJWT({ role: 'staff' })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .setSubject('user-7')
        .setIssuer('https://evil.example/')
        .setAudience('iometer-gateway')
        .setExpirationTime('10m')
        .sign(rsa.privateKey);
      expect(await unauthenticated(authenticate(bearer(wrongIssuer)), wrongIssuer)).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
      const wrongAudience = await new jose.SignJWT({ role: 'staff' })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .setSubject('user-7')
        .setIssuer('https://idp.example/')
        .setAudience('someone-else')
        .setExpirationTime('10m')
        .sign(rsa.privateKey);
      expect(await unauthenticated(authenticate(bearer(wrongAudience)), wrongAudience)).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    });
  });

  it('accepts both HS256 (secret) and RS256 (JWKS) tokens when both are configured, each only with its own key', async () => {
    const secret = 'h'.repeat(40);
    const authenticate = authenticator('/jwks', { jwtSecret: secret });
    const hs = await sign({ role: 'staff' }, 'HS256', new TextEncoder().encode(secret));
    await expect(authenticate(bearer(hs))).resolves.toMatchObject({ role: 'staff' });
    const rs = await sign({ role: 'staff' }, 'RS256', rsa.privateKey, 'rsa-1');
    await expect(authenticate(bearer(rs))).resolves.toMatchObject({ role: 'staff' });
    const confused = await sign({ role: 'staff' }, 'HS256', new TextEncoder().encode(await jose.exportSPKI(rsa.publicKey)));
    expect(await unauthenticated(authenticate(bearer(confused)), confused)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  describe('when the key set cannot be loaded', () => {
    it.each([
      ['answers 500', '/broken'],
      ['serves something other than JSON', '/not-json'],
      ['answers 404', '/missing'],
    ])('fails with a 503 AUTH_UNAVAILABLE (not a 401) when the JWKS endpoint %s', async (_label, path) => {
      const token = await sign({ role: 'staff' }, 'RS256', rsa.privateKey, 'rsa-1');
      const error = await failure(authenticator(path)(bearer(token)), token);
      expect(error.extensions).toEqual({ code: 'AUTH_UNAVAILABLE', http: { status: 503 } });
      expect(error.message).not.toContain(baseUrl);
    });

    it('fails with a 503 when nothing listens at the JWKS URL', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const authenticate = createAuthenticator({
        jwksUrl: `http://127.0.0.1:${port}/jwks`,
        roleClaim: 'role',
        externalIdClaim: 'externalId',
        apiKeys: [],
        sandbox: false,
      });
      const token = await sign({ role: 'staff' }, 'RS256', rsa.privateKey, 'rsa-1');
      const error = await failure(authenticate(bearer(token)), token);
      expect(error.extensions?.code).toBe('AUTH_UNAVAILABLE');
    });
  });
});
