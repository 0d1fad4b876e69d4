import type { Plugin } from 'graphql-yoga';
import { appendVary } from '../shared/vary';
import { compressBody, compressStream, negotiateEncoding, type Encoding } from '../transport/compression';

export interface CompressionOptions {
  /** Bodies smaller than this many bytes stay plain: compressing them saves less than it costs. */
  thresholdBytes: number;
}

/** Content types whose bodies are event streams, compressed and flushed event by event. */
const STREAMED = /^(text\/event-stream|multipart\/mixed)/i;

/** Bodies worth compressing: JSON answers, streams, pages; not images or what is compressed already. */
const COMPRESSIBLE = /^(application\/(graphql-response\+)?json|text\/|multipart\/mixed)/i;

/**
 * yoga marks SSE streams `Content-Encoding: none` (no proxy should buffer them to compress); a
 * coding that flushes per event is fine, so only a real coding counts as encoded.
 */
function isEncoded(response: Response): boolean {
  const coding = response.headers.get('content-encoding');
  return coding !== null && coding !== 'none' && coding !== 'identity';
}

function compressed(response: Response, encoding: Encoding, body: BodyInit, ResponseClass: typeof Response): Response {
  const headers = new Headers(response.headers);
  headers.set('content-encoding', encoding);
  headers.delete('content-length');
  appendVary(headers, ['Accept-Encoding']);
  return new ResponseClass(body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Response compression: gzip or brotli as the request's Accept-Encoding prefers, for JSON answers of
 * at least `thresholdBytes` and for SSE and multipart streams (each event flushed on its own). Last in
 * the pipeline, so it compresses what every other plugin made of the response; responses already
 * encoded (the GraphiQL page) and bodiless ones (304, HEAD) pass as they are.
 */
export function useCompression({ thresholdBytes }: CompressionOptions): Plugin {
  return {
    // Not async: most responses return at once, without a promise per request.
    onResponse({ request, response, setResponse, fetchAPI }) {
      if (!response.body || request.method === 'HEAD' || isEncoded(response)) return;
      const contentType = response.headers.get('content-type') ?? '';
      if (!COMPRESSIBLE.test(contentType)) return;
      const encoding = negotiateEncoding(request.headers.get('accept-encoding'));
      if (STREAMED.test(contentType)) {
        if (encoding) setResponse(compressed(response, encoding, compressStream(encoding, response.body), fetchAPI.Response));
        return;
      }
      const declaredLength = response.headers.get('content-length');
      if (declaredLength !== null && Number(declaredLength) < thresholdBytes) return;
      // From here on the coding depends on Accept-Encoding, also when it is none.
      if (!encoding) {
        appendVary(response.headers, ['Accept-Encoding']);
        return;
      }
      return (async () => {
        const body = new Uint8Array(await response.arrayBuffer());
        if (body.byteLength < thresholdBytes) {
          setResponse(new fetchAPI.Response(body, response));
          return;
        }
        setResponse(compressed(response, encoding, new Uint8Array(await compressBody(encoding, body)), fetchAPI.Response));
      })();
    },
  };
}
