import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw } from 'node:zlib';

/** What IOmeter answered: its status and headers, and the whole (decoded) body. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpExchangeRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

const decoders: Record<string, (body: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  'x-deflate': promisify(inflate),
  'deflate-raw': promisify(inflateRaw),
  br: promisify(brotliDecompress),
};
const ACCEPT_ENCODING = 'gzip, deflate, br';

/**
 * One HTTP exchange with IOmeter over node:http(s) and its global keep-alive agent: the request in a
 * single write (headers and body, Content-Length set), the answer's chunks gathered and joined once.
 * The fetch of @whatwg-node/fetch did the same through a Request and a Response object, a
 * PassThrough stream piped per answer and a read of that stream: ≈ 12 % of the gateway's JavaScript
 * time per request at one connection, and 1.2–1.4× this exchange's CPU (docs/benchmarks.md, "The query
 * path at one connection"). Bodies are decoded as that fetch decoded them (gzip, deflate, br).
 */
export function exchangeOverHttp(url: string, { method, headers, body, signal }: HttpExchangeRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const outgoing = send(url, {
      method,
      headers: { 'accept-encoding': ACCEPT_ENCODING, ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      signal,
    });
    outgoing.once('error', reject);
    outgoing.once('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.once('error', reject);
      // Cut off (abort, reset) before its end: an error, never a truncated body.
      incoming.once('close', () => {
        if (!incoming.complete) reject(signal.aborted ? signal.reason : new Error('IOmeter closed the connection before the answer was complete'));
      });
      incoming.once('end', () => {
        const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const status = incoming.statusCode ?? 0;
        const answer = (decoded: Buffer) => resolve({ status, statusText: incoming.statusMessage ?? '', headers: incoming.headers, body: decoded });
        const decode = decoders[incoming.headers['content-encoding']?.toLowerCase() ?? ''];
        if (decode) decode(raw).then(answer, reject);
        else answer(raw);
      });
    });
    outgoing.end(body);
  });
}
