import crypto from 'node:crypto';
import { GraphQLError } from 'graphql';
import { createApiKeyMatcher, createAuthenticator, hashApiKey, parseApiKeys, type ApiKeyEntry } from '../src/identity';

const BILLING_KEY = 'billing-service-key-0f3a9c';
const REPORTS_KEY = 'reports-service-key-77e1d2';
const PORTAL_KEY = 'customer-portal-key-5b21aa';
const billingHash = hashApiKey(BILLING_KEY);
const reportsHash = hashApiKey(REPORTS_KEY);
const portalHash = hashApiKey(PORTAL_KEY);

function parseError(value: string): string {
  try {
    parseApiKeys(value);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected parseApiKeys to throw');
}

describe('parseApiKeys (AUTH_API_KEYS)', () => {
  it('reads nothing from an unset or blank value', () => {
    expect(parseApiKeys(undefined)).toEqual([]);
    expect(parseApiKeys('  ')).toEqual([]);
  });

  it('reads comma-separated name:role:sha256hex entries, customer keys with their externalId', () => {
    const value = ` billing:staff:${billingHash.toUpperCase()} , reports : staff : ${reportsHash},portal:customer:${portalHash}:C-1001`;
    expect(parseApiKeys(value)).toEqual<ApiKeyEntry[]>([
      { name: 'billing', role: 'staff', sha256: billingHash },
      { name: 'reports', role: 'staff', sha256: reportsHash },
      { name: 'portal', role: 'customer', sha256: portalHash, externalId: 'C-1001' },
    ]);
  });

  it('matches sha256sum output', () => {
    // printf %s 'hello' | sha256sum
    expect(hashApiKey('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it.each([
    [`billing:staff:${billingHash},`, /^entry 2 is empty/],
    [`billing:staff`, /^entry 1: expected name:role:sha256hex/],
    [`billing:staff:${billingHash}:C-1:extra`, /^entry 1: too many ":"-separated fields/],
    [`bad name:staff:${billingHash}`, /^entry 1: the name must be 1-64 letters/],
    [`billing:admin:${billingHash}`, /^entry 1: the role \(second field\) must be "staff" or "customer"$/],
    [`billing:staff:${billingHash.slice(0, 40)}`, /^entry 1 \("billing"\): the hash must be .* 64 hex characters \(got 40 characters\)/],
    [`billing:staff:${'g'.repeat(64)}`, /^entry 1 \("billing"\): the hash must be/],
    [`billing:staff:${billingHash}:C-1001`, /^entry 1 \("billing"\): only customer keys carry an externalId/],
    [`portal:customer:${portalHash}`, /^entry 1 \("portal"\): a customer key needs its customer number/],
    [`portal:customer:${portalHash}: `, /^entry 1 \("portal"\): a customer key needs its customer number/],
    [`billing:staff:${billingHash},billing:staff:${reportsHash}`, /^entry 2 \("billing"\): the name is already used by entry 1/],
    [`billing:staff:${billingHash},other:customer:${billingHash.toUpperCase()}:C-1`, /^entry 2 \("other"\): the same key hash is already configured as "billing"/],
  ])('rejects %s', (value, message) => {
    expect(parseError(value)).toMatch(message);
  });

  it('does not echo a raw key configured by mistake', () => {
    const rawKey = 'sk_live_5f0c2b1e9a';
    expect(parseError(rawKey)).not.toContain(rawKey);
    expect(parseError(`billing:staff:${rawKey}`)).not.toContain(rawKey);
    expect(parseError(`${rawKey}:with:colons`)).not.toContain(rawKey);
  });
});

describe('API key authentication', () => {
  const apiKeys = parseApiKeys(`billing:staff:${billingHash},reports:staff:${reportsHash},portal:customer:${portalHash}:C-1001`);
  const authenticate = createAuthenticator({ apiKeys, roleClaim: 'role', externalIdClaim: 'externalId', sandbox: false });

  it('authenticates a configured key as its name and role, without keeping the key', async () => {
    const identity = await authenticate(new Headers({ 'x-api-key': REPORTS_KEY }));
    expect(identity).toEqual({ role: 'staff', subject: 'reports', via: 'apiKey' });
    expect(JSON.stringify(identity)).not.toContain(REPORTS_KEY);
    expect(JSON.stringify(identity)).not.toContain(reportsHash);
  });

  it('gives a customer key its customer number', async () => {
    await expect(authenticate(new Headers({ 'X-Api-Key': ` ${PORTAL_KEY} ` }))).resolves.toEqual({
      role: 'customer',
      subject: 'portal',
      via: 'apiKey',
      externalId: 'C-1001',
    });
  });

  it.each([
    ['an unknown key', 'not-a-configured-key'],
    ['a configured key with a typo', `${BILLING_KEY}x`],
    ['the configured hash instead of the key', billingHash],
    ['an oversized key', 'k'.repeat(9000)],
  ])('rejects %s with a 401 that does not echo it', async (_label, key) => {
    const error = await authenticate(new Headers({ 'x-api-key': key })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).message).toBe('Unknown API key.');
    expect((error as GraphQLError).extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    expect(JSON.stringify((error as GraphQLError).toJSON())).not.toContain(key);
  });

  it('compares the digest with every configured key, even after a match', () => {
    const match = createApiKeyMatcher(apiKeys);
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      expect(match(BILLING_KEY)?.name).toBe('billing');
      expect(compare).toHaveBeenCalledTimes(apiKeys.length);
      compare.mockClear();
      expect(match('unknown')).toBeUndefined();
      expect(compare).toHaveBeenCalledTimes(apiKeys.length);
    } finally {
      compare.mockRestore();
    }
  });
});
