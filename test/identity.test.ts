import { GraphQLError } from 'graphql';
import {
  ANONYMOUS_SANDBOX_IDENTITY,
  DEMO_CUSTOMER_EXTERNAL_ID,
  assertAuthConfigured,
  createAuthenticator,
  headersFromConnectionParams,
  identityHash,
  signDemoTokens,
  type AuthOptions,
  type Identity,
} from '../src/identity';
import { jose } from '../src/identity/jose';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const secretKey = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

function options(overrides: Partial<AuthOptions> = {}): AuthOptions {
  return { jwtSecret: SECRET, roleClaim: 'role', externalIdClaim: 'externalId', apiKeys: [], sandbox: false, ...overrides };
}

interface SignOptions {
  key?: Uint8Array;
  subject?: string | null;
  issuer?: string;
  audience?: string | string[];
  expiresAt?: number | null;
  notBefore?: number;
}

function sign(claims: Record<string, unknown>, signOptions: SignOptions = {}): Promise<string> {
  const { key = secretKey, subject = 'user-1', issuer, audience, expiresAt = now() + 600, notBefore } = signOptions;
  const jwt = new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (subject !== null) jwt.setSubject(subject);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  if (expiresAt !== null) jwt.setExpirationTime(expiresAt);
  if (notBefore !== undefined) jwt.setNotBefore(notBefore);
  return jwt.sign(key);
}

const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Runs an authentication that must fail and checks the error is the client-safe 401. */
async function rejection(attempt: Promise<Identity>, secret?: string): Promise<string> {
  const error = await attempt.then(
    (identity) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(identity)}`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  const graphQLError = error as GraphQLError;
  expect(graphQLError.extensions).toEqual({
    code: 'UNAUTHENTICATED',
    http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
  });
  if (secret !== undefined) {
    expect(JSON.stringify(graphQLError.toJSON())).not.toContain(secret);
    expect(graphQLError.originalError?.message ?? '').not.toContain(secret);
  }
  return graphQLError.message;
}

describe('JWT (HS256 shared secret)', () => {
  const authenticate = createAuthenticator(options());

  it('authenticates a staff token', async () => {
    const token = await sign({ role: 'staff' }, { subject: 'alice@staff' });
    await expect(authenticate(bearer(token))).resolves.toEqual({ role: 'staff', subject: 'alice@staff', via: 'jwt' });
  });

  it('authenticates a customer token with its customer number', async () => {
    const token = await sign({ role: 'customer', externalId: 'C-1002' }, { subject: 'cust-42' });
    await expect(authenticate(bearer(token))).resolves.toEqual({
      role: 'customer',
      subject: 'cust-42',
      via: 'jwt',
      externalId: 'C-1002',
    });
  });

  it('ignores an externalId on a staff token', async () => {
    const token = await sign({ role: 'staff', externalId: 'C-1002' });
    const identity = await authenticate(bearer(token));
    expect(identity).toEqual({ role: 'staff', subject: 'user-1', via: 'jwt' });
  });

  it('accepts the scheme in any case and surrounding whitespace', async () => {
    const token = await sign({ role: 'staff' });
    const identity = await authenticate(new Headers({ authorization: `  bearer \t${token}  ` }));
    expect(identity.role).toBe('staff');
  });

  it('reads configurable claim names', async () => {
    const custom = createAuthenticator(
      options({ roleClaim: 'https://iometer.example/role', externalIdClaim: 'customer_no' }),
    );
    const token = await sign({ 'https://iometer.example/role': 'customer', customer_no: 'C-1003' });
    await expect(custom(bearer(token))).resolves.toMatchObject({ role: 'customer', externalId: 'C-1003' });
    const defaultNames = await sign({ role: 'customer', externalId: 'C-1003' });
    // The message names the configured claim, not the one the token used.
    expect(await rejection(custom(bearer(defaultNames)), defaultNames)).toBe(
      'The token has no "https://iometer.example/role" claim: it must be "staff" or "customer".',
    );
  });

  describe('issuer and audience', () => {
    const strict = createAuthenticator(options({ issuer: 'https://idp.example/', audience: 'iometer-gateway' }));

    it('accepts the configured issuer and audience (also within an audience list)', async () => {
      const single = await sign({ role: 'staff' }, { issuer: 'https://idp.example/', audience: 'iometer-gateway' });
      await expect(strict(bearer(single))).resolves.toMatchObject({ role: 'staff' });
      const list = await sign({ role: 'staff' }, { issuer: 'https://idp.example/', audience: ['other', 'iometer-gateway'] });
      await expect(strict(bearer(list))).resolves.toMatchObject({ role: 'staff' });
    });

    it.each<[string, SignOptions]>([
      ['a wrong issuer', { issuer: 'https://evil.example/', audience: 'iometer-gateway' }],
      ['a wrong audience', { issuer: 'https://idp.example/', audience: 'another-service' }],
      ['no issuer', { audience: 'iometer-gateway' }],
      ['no audience', { issuer: 'https://idp.example/' }],
    ])('rejects %s', async (_label, signOptions) => {
      const token = await sign({ role: 'staff' }, signOptions);
      expect(await rejection(strict(bearer(token)), token)).toBe('Invalid or expired token.');
    });
  });

  describe('rejects', () => {
    const INVALID = 'Invalid or expired token.';
    const NO_ROLE = 'The token has no "role" claim: it must be "staff" or "customer".';
    const BAD_ROLE = 'The token\'s "role" claim must be "staff" or "customer".';
    const NO_EXTERNAL_ID = 'A customer token needs the "externalId" claim with the customer\'s number (at most 128 characters).';
    // Label, the log-only reason, the token, and the message when it is not INVALID: a well-signed token
    // with a missing or wrong claim is told which claim.
    const cases: Array<[string, string, () => Promise<string>, string?]> = [
      ['an expired token', 'ERR_JWT_EXPIRED', () => sign({ role: 'staff' }, { expiresAt: now() - 60 }), 'The token has expired.'],
      ['a token that is not yet valid', 'ERR_JWT_CLAIM_VALIDATION_FAILED', () => sign({ role: 'staff' }, { notBefore: now() + 60 })],
      ['a token without exp', 'ERR_JWT_CLAIM_VALIDATION_FAILED', () => sign({ role: 'staff' }, { expiresAt: null })],
      ['a token without sub', 'ERR_JWT_CLAIM_VALIDATION_FAILED', () => sign({ role: 'staff' }, { subject: null })],
      ['a token with an empty sub', 'ERR_SUB_CLAIM', () => sign({ role: 'staff' }, { subject: ' ' }), 'The token has no subject: the "sub" claim is required.'],
      [
        'a token signed with another secret',
        'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
        () => sign({ role: 'staff' }, { key: new TextEncoder().encode('x'.repeat(40)) }),
      ],
      [
        'a token whose payload was changed after signing',
        'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
        async () => {
          const [header, , signature] = (await sign({ role: 'customer', externalId: 'C-1001' })).split('.');
          const forged = base64url({ role: 'staff', sub: 'user-1', exp: now() + 600 });
          return `${header}.${forged}.${signature}`;
        },
      ],
      [
        'an unsigned token (alg: none)',
        'ERR_JOSE_ALG_NOT_ALLOWED',
        async () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ role: 'staff', sub: 'x', exp: now() + 600 })}.`,
      ],
      [
        'an HS512 token signed with the right secret',
        'ERR_JOSE_ALG_NOT_ALLOWED',
        () =>
          new jose.SignJWT({ role: 'staff' })
            .setProtectedHeader({ alg: 'HS512' })
            .setSubject('user-1')
            .setExpirationTime('10m')
            .sign(secretKey),
      ],
      ['a token without a role', 'ERR_ROLE_CLAIM', () => sign({}), NO_ROLE],
      ['a token with an unknown role', 'ERR_ROLE_CLAIM', () => sign({ role: 'admin' }), BAD_ROLE],
      ['a token whose role is not a string', 'ERR_ROLE_CLAIM', () => sign({ role: ['staff'] }), BAD_ROLE],
      ['a customer token without externalId', 'ERR_EXTERNAL_ID_CLAIM', () => sign({ role: 'customer' }), NO_EXTERNAL_ID],
      ['a customer token with an empty externalId', 'ERR_EXTERNAL_ID_CLAIM', () => sign({ role: 'customer', externalId: '' }), NO_EXTERNAL_ID],
      ['a customer token with a numeric externalId', 'ERR_EXTERNAL_ID_CLAIM', () => sign({ role: 'customer', externalId: 1001 }), NO_EXTERNAL_ID],
      ['a garbage token', 'ERR_JWS_INVALID', async () => 'not-a-jwt'],
      ['three garbage segments', 'ERR_JWS_INVALID', async () => 'abc.def.ghi'],
      ['an oversized token', 'ERR_BEARER_FORMAT', async () => 'a'.repeat(9000)],
    ];

    it.each(cases)('%s (%s), without echoing it', async (_label, reason, makeToken, message = INVALID) => {
      const token = await makeToken();
      const attempt = authenticate(bearer(token));
      expect(await rejection(attempt, token)).toBe(message);
      // The log-only detail says why, so each case is known to fail for its own reason.
      await attempt.catch((error: GraphQLError) => expect(error.originalError?.message).toBe(reason));
    });

    it('a malformed Bearer value', async () => {
      const token = await sign({ role: 'staff' });
      for (const value of ['Bearer', `Bearer ${token} extra`, `Bearer ${token}, Bearer ${token}`]) {
        expect(await rejection(authenticate(new Headers({ authorization: value })), token)).toBe('Invalid or expired token.');
      }
    });

    it('other authorization schemes', async () => {
      const credentials = Buffer.from('user:password').toString('base64');
      const message = await rejection(authenticate(new Headers({ authorization: `Basic ${credentials}` })), credentials);
      expect(message).toMatch(/Unsupported authorization scheme/);
    });
  });

  it('rejects Bearer tokens when only API keys are configured', async () => {
    const apiKeysOnly = createAuthenticator(
      options({ jwtSecret: undefined, apiKeys: [{ name: 'svc', role: 'staff', sha256: '0'.repeat(64) }] }),
    );
    const token = await sign({ role: 'staff' });
    expect(await rejection(apiKeysOnly(bearer(token)), token)).toBe('Invalid or expired token.');
  });
});

describe('requests without credentials', () => {
  it('are rejected outside sandbox mode', async () => {
    const authenticate = createAuthenticator(options());
    expect(await rejection(authenticate(new Headers()))).toBe('Authentication required.');
    expect(await rejection(authenticate(new Headers({ authorization: '  ', 'x-api-key': '' })))).toBe(
      'Authentication required.',
    );
  });

  it('act as anonymous staff in sandbox mode, even with no auth configured', async () => {
    const authenticate = createAuthenticator(options({ jwtSecret: undefined, sandbox: true }));
    await expect(authenticate(new Headers())).resolves.toEqual({ role: 'staff', subject: 'anonymous', via: 'anonymous' });
    await expect(authenticate(new Headers({ authorization: '' }))).resolves.toBe(ANONYMOUS_SANDBOX_IDENTITY);
  });

  it('never fall back to anonymous when a credential is present but bad, in sandbox mode too', async () => {
    const authenticate = createAuthenticator(options({ sandbox: true }));
    const expired = await sign({ role: 'customer', externalId: 'C-1001' }, { expiresAt: now() - 60 });
    // In sandbox mode the 401 says where demo tokens come from and how long they last.
    expect(await rejection(authenticate(bearer(expired)), expired)).toMatch(
      /^The token has expired\. Sandbox mode: use a demo token printed at start-up; they stay valid across restarts while the sandbox-jwt-secret file/,
    );
    expect(await rejection(authenticate(new Headers({ 'x-api-key': 'guess' })), 'guess')).toBe('Unknown API key.');
  });
});

describe('a request with both a Bearer token and an x-api-key', () => {
  it('is rejected as ambiguous', async () => {
    const authenticate = createAuthenticator(options());
    const token = await sign({ role: 'staff' });
    const message = await rejection(authenticate(new Headers({ authorization: `Bearer ${token}`, 'x-api-key': 'k' })), token);
    expect(message).toMatch(/not both/);
  });
});

describe('assertAuthConfigured', () => {
  it('refuses to run outside sandbox mode without any authentication configured', () => {
    expect(() => assertAuthConfigured({ apiKeys: [] }, false)).toThrow(/AUTH_JWT_SECRET.*AUTH_JWKS_URL.*AUTH_API_KEYS/s);
    expect(() => createAuthenticator(options({ jwtSecret: undefined }))).toThrow(/AUTH_JWT_SECRET/);
  });

  it('accepts any one source, and sandbox mode without any', () => {
    expect(() => assertAuthConfigured({ jwtSecret: SECRET, apiKeys: [] }, false)).not.toThrow();
    expect(() => assertAuthConfigured({ jwksUrl: 'https://idp.example/jwks', apiKeys: [] }, false)).not.toThrow();
    expect(() =>
      assertAuthConfigured({ apiKeys: [{ name: 'svc', role: 'staff', sha256: '0'.repeat(64) }] }, false),
    ).not.toThrow();
    expect(() => assertAuthConfigured({ apiKeys: [] }, true)).not.toThrow();
  });
});

describe('createAuthenticator option checks', () => {
  it.each<[string, Partial<AuthOptions>, RegExp]>([
    ['a short HS256 secret', { jwtSecret: 'too-short' }, /at least 32 characters/],
    ['a non-http JWKS URL', { jwksUrl: 'file:///etc/jwks.json' }, /http:\/\/ or https:\/\//],
    ['equal claim names', { roleClaim: 'x', externalIdClaim: 'x' }, /two different/],
    ['an empty claim name', { roleClaim: '' }, /non-empty/],
  ])('rejects %s', (_label, overrides, message) => {
    expect(() => createAuthenticator(options(overrides))).toThrow(message);
  });
});

describe('headersFromConnectionParams', () => {
  it('takes credentials from the connection_init payload, matching keys case-insensitively', () => {
    const headers = headersFromConnectionParams({ Authorization: 'Bearer abc', other: 'ignored' }, { 'x-api-key': 'k' });
    expect([...headers.entries()]).toEqual([['authorization', 'Bearer abc']]);
    expect([...headersFromConnectionParams({ 'X-API-Key': 'k1' }).entries()]).toEqual([['x-api-key', 'k1']]);
  });

  it('falls back to the upgrade request headers (Node record or Fetch Headers) when the payload has none', () => {
    const fromNode = headersFromConnectionParams({ unrelated: 1 }, { authorization: 'Bearer up', host: 'gateway', cookie: 'c' });
    expect([...fromNode.entries()]).toEqual([['authorization', 'Bearer up']]);
    const fromFetch = headersFromConnectionParams(undefined, new Headers({ 'x-api-key': 'k2', accept: '*/*' }));
    expect([...fromFetch.entries()]).toEqual([['x-api-key', 'k2']]);
    expect([...headersFromConnectionParams(null).entries()]).toEqual([]);
  });

  it('ignores non-string payload values', () => {
    const headers = headersFromConnectionParams({ authorization: { token: 'x' }, 'x-api-key': null }, { 'x-api-key': 'k' });
    expect([...headers.entries()]).toEqual([['x-api-key', 'k']]);
  });

  it('does not let the two spellings of one key pass as a single credential', async () => {
    const token = await sign({ role: 'staff' });
    const headers = headersFromConnectionParams({ authorization: `Bearer ${token}`, Authorization: `Bearer ${token}` });
    expect(await rejection(createAuthenticator(options())(headers), token)).toBe('Invalid or expired token.');
  });

  it('feeds the authenticator', async () => {
    const token = await sign({ role: 'customer', externalId: 'C-1001' });
    const identity = await createAuthenticator(options())(headersFromConnectionParams({ authorization: `Bearer ${token}` }));
    expect(identity).toMatchObject({ role: 'customer', externalId: 'C-1001' });
  });
});

describe('identityHash', () => {
  const customer: Identity = { role: 'customer', subject: 'alice@example.com', via: 'jwt', externalId: 'C-1001' };

  it('is a stable 16-character hex digest that does not contain the subject', () => {
    const hash = identityHash(customer);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(identityHash({ ...customer })).toBe(hash);
    expect(hash).not.toContain('alice');
  });

  it('differs between identities that share a subject', () => {
    const hashes = new Set([
      identityHash(customer),
      identityHash({ ...customer, externalId: 'C-1002' }),
      identityHash({ role: 'staff', subject: 'alice@example.com', via: 'jwt' }),
      identityHash({ role: 'staff', subject: 'alice@example.com', via: 'apiKey' }),
    ]);
    expect(hashes.size).toBe(4);
  });
});

describe('signDemoTokens', () => {
  it('signs a staff and a C-1001 customer token that the authenticator accepts', async () => {
    const config = {
      jwtSecret: SECRET,
      issuer: 'iometer-gateway-sandbox',
      audience: 'iometer-gateway',
      roleClaim: 'app_role',
      externalIdClaim: 'customer_no',
    };
    const tokens = await signDemoTokens({ ...config, secret: SECRET });
    const authenticate = createAuthenticator({ ...config, apiKeys: [], sandbox: true });
    await expect(authenticate(bearer(tokens.staff))).resolves.toEqual({ role: 'staff', subject: 'demo-staff', via: 'jwt' });
    await expect(authenticate(bearer(tokens.customer))).resolves.toEqual({
      role: 'customer',
      subject: 'demo-customer',
      via: 'jwt',
      externalId: DEMO_CUSTOMER_EXTERNAL_ID,
    });
    expect(DEMO_CUSTOMER_EXTERNAL_ID).toBe('C-1001');
  });

  it('are valid for 12 hours by default', async () => {
    const { staff } = await signDemoTokens({ secret: SECRET, roleClaim: 'role', externalIdClaim: 'externalId' });
    const { exp, iat } = jose.decodeJwt(staff);
    expect(exp! - iat!).toBe(12 * 60 * 60);
    expect(jose.decodeProtectedHeader(staff).alg).toBe('HS256');
  });

  it('are rejected by a gateway with another secret', async () => {
    const { staff } = await signDemoTokens({ secret: 'y'.repeat(40), roleClaim: 'role', externalIdClaim: 'externalId' });
    expect(await rejection(createAuthenticator(options())(bearer(staff)), staff)).toBe('Invalid or expired token.');
  });
});

describe('verified tokens are remembered until they expire', () => {
  it('answers a token it has verified with the same identity, and a token with another signature not at all', async () => {
    const authenticate = createAuthenticator(options());
    const token = await sign({ role: 'customer', externalId: 'C-1001' });
    const first = await authenticate(bearer(token));
    expect(await authenticate(bearer(token))).toBe(first);
    expect(identityHash(await authenticate(bearer(token)))).toBe(identityHash(first));
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${(await sign({ role: 'staff' }, { key: new TextEncoder().encode('x'.repeat(40)) })).split('.')[2]}`;
    await rejection(authenticate(bearer(forged)));
  });

  it('never accepts a remembered token once it has expired (past the clock tolerance, as without the memory)', async () => {
    const authenticate = createAuthenticator(options());
    const token = await sign({ role: 'staff' }, { expiresAt: now() + 1 });
    await expect(authenticate(bearer(token))).resolves.toMatchObject({ role: 'staff' });
    // The verifier allows 5 s of clock skew on `exp`; a second after that, the token is refused.
    await new Promise((resolve) => setTimeout(resolve, 7_100));
    expect(await rejection(authenticate(bearer(token)))).toBe('The token has expired.');
  }, 15_000);
});
