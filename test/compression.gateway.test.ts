import { request as httpRequest, type IncomingMessage } from 'node:http';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync } from 'node:zlib';
import { subscribeSse } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

/*
 * Response compression through HTTP as a client sees the bytes (node:http, which decodes nothing):
 * gzip or brotli by Accept-Encoding, small answers plain, and SSE streams compressed event by event,
 * so a client decodes each reading as it is sent.
 */

const LARGE = 'query Large { provider { installations { id externalId meters { id } } } }';
const SMALL = 'query Small { __typename }';
const READINGS = 'subscription Live { readings { time meter { id } } }';

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function post(url: string, query: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(JSON.stringify({ query }));
  });
}

/** The first `count` SSE `next` events of a subscription, read through a decoder of the response's coding. */
function sseEvents(url: string, query: string, acceptEncoding: string, count: number): Promise<{ encoding?: string; events: string[] }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': acceptEncoding } },
      (response) => {
        const encoding = response.headers['content-encoding'];
        const decoded = encoding === 'br' ? response.pipe(createBrotliDecompress()) : encoding === 'gzip' ? response.pipe(createGunzip()) : response;
        const events: string[] = [];
        let text = '';
        decoded.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          let end: number;
          while ((end = text.indexOf('\n\n')) >= 0) {
            const block = text.slice(0, end);
            text = text.slice(end + 2);
            if (block.startsWith('event: next') || block.includes('\nevent: next')) events.push(block);
            if (events.length === count) {
              request.destroy();
              resolve({ encoding, events });
              return;
            }
          }
        });
        decoded.on('error', reject);
      },
    );
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    request.end(JSON.stringify({ query }));
  });
}

describe('response compression', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'false', CACHE_TTL: '0' } });
  });
  afterAll(() => stack?.close());

  it.each([
    ['br', 'br', (body: Buffer) => brotliDecompressSync(body)],
    ['gzip, deflate, br', 'br', (body: Buffer) => brotliDecompressSync(body)],
    ['gzip', 'gzip', (body: Buffer) => gunzipSync(body)],
    ['br;q=0.5, gzip;q=0.9', 'gzip', (body: Buffer) => gunzipSync(body)],
    ['*', 'br', (body: Buffer) => brotliDecompressSync(body)],
  ])('Accept-Encoding %j: a large answer comes %s-encoded', async (acceptEncoding, expected, decode) => {
    const plain = await post(stack.gateway.url, LARGE, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(1024);

    const response = await post(stack.gateway.url, LARGE, { 'accept-encoding': acceptEncoding });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe(expected);
    expect(response.headers.vary).toContain('Accept-Encoding');
    expect(response.body.length).toBeLessThan(plain.body.length / 2);
    expect(JSON.parse(decode(response.body).toString('utf8'))).toEqual(JSON.parse(plain.body.toString('utf8')));
  });

  it.each(['identity', 'br;q=0, gzip;q=0', 'deflate', ''])('Accept-Encoding %j: the answer stays plain', async (acceptEncoding) => {
    const response = await post(stack.gateway.url, LARGE, acceptEncoding ? { 'accept-encoding': acceptEncoding } : {});
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(response.body.toString('utf8')).data.provider.installations.length).toBeGreaterThan(0);
  });

  it('leaves answers under the threshold plain', async () => {
    const response = await post(stack.gateway.url, SMALL, { 'accept-encoding': 'br, gzip' });
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ data: { __typename: 'Query' } });
  });

  it.each(['br', 'gzip'])('compresses an SSE stream with %s, each event decodable as it is sent', async (encoding) => {
    // Without a flush per event the first events would sit in the compressor's block and never arrive here.
    const { encoding: used, events } = await sseEvents(stack.gateway.url, READINGS, encoding, 3);
    expect(used).toBe(encoding);
    expect(events).toHaveLength(3);
    for (const event of events) expect(JSON.parse(event.slice(event.indexOf('data: ') + 6)).data.readings.meter.id).toEqual(expect.any(String));
  });

  it('serves a real SSE client (graphql-sse over fetch, which asks for gzip) its readings', async () => {
    const results = await subscribeSse<{ data: { readings: { time: string } } }>(stack.gateway.url, READINGS, 2).done;
    expect(results.map((result) => typeof result.data.readings.time)).toEqual(['string', 'string']);
  });
});
