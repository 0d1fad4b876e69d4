import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** yoga's default maxRequestBodySize, the bound clients have had so far. */
export const MAX_REQUEST_BODY_BYTES = 25_000_000;

/** Only a single non-negative integer is a Content-Length (not `1, 2`, as in request smuggling). */
const CONTENT_LENGTH = /^\d+$/;

function tooLarge(): GraphQLError {
  return new GraphQLError('Request body too large', { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
}

/**
 * A body without a Content-Length (chunked), read up to `limit` bytes; past it, a 413. The stream is
 * left as it is rather than cancelled, which would cut the connection before the 413 is written.
 */
async function boundedBody(request: Request, limit: number): Promise<Blob> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > limit) {
      reader.releaseLock();
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  return new Blob(chunks as BlobPart[]);
}

/**
 * The request body's size limit, in place of yoga's maxRequestBodySize (turned off in src/server.ts),
 * with the same 413 REQUEST_ENTITY_TOO_LARGE and 400 for a malformed Content-Length. A Content-Length
 * over the limit is refused before the body is read; under it, nothing more is needed, since Node's
 * HTTP parser never delivers more than a Content-Length declares. Only a body without one (chunked, rare)
 * is counted while it is read. yoga's version wraps every request's stream in a TransformStream and a
 * new Request, which cost a small query ≈ 5 % of its CPU (an AbortController, a DOMException and a
 * stream pipeline per request).
 */
export function useRequestBodyLimit(limit = MAX_REQUEST_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!CONTENT_LENGTH.test(contentLength)) {
          throw new GraphQLError('Content-Length header is invalid.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser(async (chunked) => {
        const body = await boundedBody(chunked, limit);
        return requestParser(new fetchAPI.Request(chunked.url, { method: chunked.method, headers: chunked.headers, body }));
      });
    },
  };
}
