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
  /** Longest answer body accepted, as received and as decoded (IOMETER_MAX_RESPONSE_BYTES). */
  maxBodyBytes: number;
}

/** IOmeter's answer exceeded maxBodyBytes: it is not read further (nor decoded further). */
export class AnswerTooLargeError extends Error {
  constructor(maxBodyBytes: number) {
    super(`IOmeter's answer exceeded IOMETER_MAX_RESPONSE_BYTES (${maxBodyBytes} bytes)`);
  }
}

type Decoder = (body: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;

const decoders: Record<string, Decoder> = {
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
 * An answer is bounded, compressed or not, so a runaway (or hostile) IOmeter cannot fill the gateway's
 * memory: past maxBodyBytes the connection is dropped and the exchange fails with AnswerTooLargeError.
 */
export function exchangeOverHttp(url: string, { method, headers, body, signal, maxBodyBytes }: HttpExchangeRequest): Promise<HttpAnswer> {
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
      let received = 0;
      const tooLarge = () => {
        reject(new AnswerTooLargeError(maxBodyBytes));
        incoming.destroy();
      };
      if (Number(incoming.headers['content-length']) > maxBodyBytes) return tooLarge();
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBodyBytes) tooLarge();
        else chunks.push(chunk);
      });
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
        const decodeFailed = (error: unknown) => reject((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? new AnswerTooLargeError(maxBodyBytes) : error);
        if (decode) decode(raw, { maxOutputLength: maxBodyBytes }).then(answer, decodeFailed);
        else answer(raw);
      });
    });
    outgoing.end(body);
  });
}
