import { promisify } from 'node:util';
import { brotliCompress, constants, createBrotliCompress, createGzip, gzip, type BrotliOptions, type ZlibOptions } from 'node:zlib';

/** Content codings the gateway writes, best first: brotli is smaller than gzip at a similar cost. */
export type Encoding = 'br' | 'gzip';
const PREFERENCE: ReadonlyArray<Encoding> = ['br', 'gzip'];

/** Longest Accept-Encoding header read; browsers send about 30 characters. */
const MAX_ACCEPT_ENCODING_LENGTH = 256;

/**
 * The coding a response gets per its request's Accept-Encoding (RFC 9110 §12.5.3): the highest `q`
 * among br and gzip (named or through `*`), brotli on a tie; none when neither is acceptable.
 */
export function negotiateEncoding(acceptEncoding: string | null): Encoding | undefined {
  if (!acceptEncoding || acceptEncoding.length > MAX_ACCEPT_ENCODING_LENGTH) return undefined;
  const weights = new Map<string, number>();
  for (const entry of acceptEncoding.split(',')) {
    const [coding, ...parameters] = entry.split(';');
    const q = parameters.map((parameter) => /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(parameter)?.[1]).find(Boolean);
    weights.set(coding.trim().toLowerCase(), q === undefined ? 1 : Number(q));
  }
  let chosen: Encoding | undefined;
  let best = 0;
  for (const encoding of PREFERENCE) {
    const weight = weights.get(encoding) ?? weights.get('*') ?? 0;
    if (weight > best) [chosen, best] = [encoding, weight];
  }
  return chosen;
}

/**
 * Brotli at quality 5 and gzip at level 6: for answers made per request, the default brotli quality
 * (11) costs tens of milliseconds per 100 KB for a few percent less.
 */
const BROTLI: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } };
const GZIP: ZlibOptions = { level: 6 };

const brotliAsync = promisify(brotliCompress) as (data: Uint8Array, options: BrotliOptions) => Promise<Buffer>;
const gzipAsync = promisify(gzip) as (data: Uint8Array, options: ZlibOptions) => Promise<Buffer>;

/** A whole body compressed, on libuv's thread pool rather than the event loop. */
export function compressBody(encoding: Encoding, body: Uint8Array): Promise<Buffer> {
  return encoding === 'br' ? brotliAsync(body, BROTLI) : gzipAsync(body, GZIP);
}

/**
 * A streamed body (SSE events, multipart parts) compressed chunk by chunk, each flushed as soon as it
 * is written: a client decodes every event when it is sent, not when a compression block fills up.
 * Cancelling it (the client went away) cancels the source, which ends the subscription behind it.
 */
export function compressStream(encoding: Encoding, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const zlib = encoding === 'br' ? createBrotliCompress(BROTLI) : createGzip(GZIP);
  const flushKind = encoding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH;
  const reader = body.getReader();
  let output: Buffer[] = [];
  zlib.on('data', (chunk: Buffer) => output.push(chunk));
  const drain = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    for (const chunk of output) controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    output = [];
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        await new Promise<void>((resolve) => zlib.end(resolve));
        drain(controller);
        controller.close();
        return;
      }
      zlib.write(value);
      await new Promise<void>((resolve) => zlib.flush(flushKind, resolve));
      drain(controller);
    },
    async cancel(reason) {
      zlib.destroy();
      await reader.cancel(reason);
    },
  });
}
