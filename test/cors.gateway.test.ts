import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { hashApiKey } from '../src/identity';
import { launchChromium } from './helpers/browser';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

/*
 * CORS_ORIGINS through HTTP and a real browser: sandbox mode answers any origin, outside it only the
 * gateway's own origin unless CORS_ORIGINS lists more; a listed origin gets itself back, no other
 * origin (`null` included) gets any CORS header, so its browser refuses the response.
 */

const STAFF_KEY = 'cors-staff-key';
const STAFF_ENV = { ...OUT_OF_SANDBOX_ENV, AUTH_API_KEYS: `ops:staff:${hashApiKey(STAFF_KEY)}`, RATE_LIMIT_ENABLED: 'false' };
const QUERY = JSON.stringify({ query: '{ __typename }' });

/** A page's origin: an empty HTML page on a loopback port of its own. */
async function servePage(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function postFrom(url: string, origin: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { origin, 'content-type': 'application/json', ...headers }, body: QUERY });
}

async function preflightFrom(url: string, origin: string): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' },
  });
}

describe('CORS in sandbox mode', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(() => stack?.close());

  it('answers any origin with itself, without credentials mode', async () => {
    const response = await postFrom(stack.gateway.url, 'https://anywhere.example');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toContain('Origin');
    expect(response.headers.get('access-control-expose-headers')).toContain('etag');
  });
});

describe('CORS outside sandbox mode', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: STAFF_ENV });
  });
  afterAll(() => stack?.close());

  it('by default answers no other origin: no CORS headers, on preflights or requests', async () => {
    const preflight = await preflightFrom(stack.gateway.url, 'https://elsewhere.example');
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const response = await postFrom(stack.gateway.url, 'https://elsewhere.example', { 'x-api-key': STAFF_KEY });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS_ORIGINS allowlist', () => {
  let stack: Stack;
  let browser: Browser;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };

  beforeAll(async () => {
    [allowed, other] = await Promise.all([servePage(), servePage()]);
    stack = await startStack({ env: { ...STAFF_ENV, CORS_ORIGINS: `https://app.example.com, ${allowed.origin}` } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    for (const page of [allowed, other]) await new Promise((resolve) => page?.server.close(resolve));
  });

  it('answers a listed origin with itself and Vary: Origin, preflights included', async () => {
    const preflight = await preflightFrom(stack.gateway.url, 'https://app.example.com');
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, x-api-key');
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
    const response = await postFrom(stack.gateway.url, 'https://app.example.com', { 'x-api-key': STAFF_KEY });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it.each(['https://evil.example', 'null', 'https://app.example.com.evil.example'])('gives %s no CORS header', async (origin) => {
    const response = await postFrom(stack.gateway.url, origin, { 'x-api-key': STAFF_KEY });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflightFrom(stack.gateway.url, origin)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a browser page on a listed origin read the answer, and one on another origin not', async () => {
    const call = async (origin: string) => {
      const page = await browser.newPage();
      await page.goto(origin);
      const outcome = await page.evaluate(
        async ({ url, key, body }) => {
          try {
            const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body });
            return { data: (await response.json()).data, requestIdReadable: response.headers.get('x-request-id') !== null };
          } catch (error) {
            return { error: String(error) };
          }
        },
        { url: stack.gateway.url, key: STAFF_KEY, body: QUERY },
      );
      await page.close();
      return outcome;
    };
    expect(await call(allowed.origin)).toEqual({ data: { __typename: 'Query' }, requestIdReadable: true });
    expect(await call(other.origin)).toEqual({ error: expect.stringContaining('Failed to fetch') });
  });
});
