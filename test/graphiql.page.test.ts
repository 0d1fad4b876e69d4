import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { loadGatewayConfig } from '../src/config';
import { PAGE_LOADS } from '../src/plugins/useGraphiQLPage';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A browser's page load, bytes as sent (fetch would decode them). */
function loadPage(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/html', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the GraphiQL page in sandbox mode', () => {
  let stack: Stack;
  let url: string;
  beforeAll(async () => {
    stack = await startStack();
    url = stack.gateway.url;
  });
  afterAll(() => stack.close());

  it('is sent compressed as the browser accepts (br, else gzip), with an ETag and Cache-Control', async () => {
    const br = await loadPage(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(br.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers.etag).toMatch(/^"[\w-]+"$/);
    const html = brotliDecompressSync(br.body).toString('utf8');
    expect(html).toContain('<title>IOmeter Gateway</title>');
    expect(br.body.length).toBeLessThan(html.length / 3);

    const gzip = await loadPage(url, { 'accept-encoding': 'gzip, br;q=0' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).toString('utf8')).toBe(html);

    const plain = await loadPage(url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(html);
    expect(new Set([br.headers.etag, gzip.headers.etag, plain.headers.etag]).size).toBe(1);
  });

  it('is where GET / leads', async () => {
    const root = await fetch(url.replace('/graphql', '/'), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
  });

  it('answers a revalidation with 304 and no body', async () => {
    const { headers } = await loadPage(url);
    const again = await loadPage(url, { 'if-none-match': headers.etag! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('limits page loads per source address, revalidations included', async () => {
    const other = await startStack();
    try {
      const { headers } = await loadPage(other.gateway.url);
      const statuses: number[] = [];
      for (let i = 1; i <= PAGE_LOADS.max; i += 1) statuses.push((await loadPage(other.gateway.url, { 'if-none-match': headers.etag! })).status);
      expect(statuses.slice(0, PAGE_LOADS.max - 1).every((status) => status === 304)).toBe(true);
      const refused = statuses[PAGE_LOADS.max - 1];
      expect(refused).toBe(429);
      const again = await loadPage(other.gateway.url);
      expect(again.status).toBe(429);
      expect(again.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(JSON.parse(again.body.toString('utf8')).errors[0].extensions.code).toBe('RATE_LIMITED');
    } finally {
      await other.close();
    }
  });
});

describe('the GraphiQL page outside sandbox mode', () => {
  const env = { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: 'graphiql-page-test-secret-of-32-characters' };

  it('is off unless GRAPHIQL=true', async () => {
    const off = await startStack({ env });
    try {
      const page = await loadPage(off.gateway.url);
      expect(page.status).toBe(404);
      expect((await fetch(off.gateway.url.replace('/graphql', '/'), { redirect: 'manual' })).status).not.toBe(302);
      expect(page.body.toString('utf8')).toContain('GRAPHIQL=true');
    } finally {
      await off.close();
    }
    const on = await startStack({ env: { ...env, GRAPHIQL: 'true' } });
    try {
      expect((await loadPage(on.gateway.url)).status).toBe(200);
    } finally {
      await on.close();
    }
  });

  it('reads GRAPHIQL: on in sandbox mode unless false, off outside it unless true', () => {
    expect(loadGatewayConfig({}).graphiql).toBe(true);
    expect(loadGatewayConfig({ GRAPHIQL: 'false' }).graphiql).toBe(false);
    expect(loadGatewayConfig(env).graphiql).toBe(false);
    expect(loadGatewayConfig({ ...env, GRAPHIQL: 'true' }).graphiql).toBe(true);
    expect(() => loadGatewayConfig({ GRAPHIQL: 'yes' })).toThrow(/GRAPHIQL/);
  });
});
