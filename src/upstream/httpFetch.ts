import { Response } from '@whatwg-node/fetch';
import type { Logger } from '../logging/logger';
import { startDeadline, type Deadline } from './deadline';
import type { ConcurrencyGate } from './concurrencyGate';
import { upstreamError } from './errors';
import { AnswerTooLargeError, exchangeOverHttp, type HttpAnswer } from './httpExchange';

export interface UpstreamFetchOptions {
  authorization: string;
  /** Bounds the whole request: waiting for a slot, every attempt and the back-off between them. */
  timeoutMs: number;
  /** Shared by every IOmeter HTTP request of the gateway. */
  gate: ConcurrencyGate;
  /** Longest wait for a slot of the gate. */
  queueTimeoutMs: number;
  /** Retries after IOmeter answered 429 or 503. Zero for anything that is not idempotent. */
  retries: number;
  /** A Retry-After (or back-off) longer than this is not waited for: the request fails instead. */
  retryMaxDelayMs: number;
  /** Longest answer body read from IOmeter, compressed or decoded; a longer one fails with UPSTREAM_ERROR. */
  maxResponseBytes: number;
  logger: Logger;
  /** Told about every attempt that reached IOmeter or failed on the way (metrics). */
  onExchange?: (exchange: UpstreamExchange) => void;
}

/** One HTTP attempt: IOmeter's status, or 'error' when no answer came (network failure, timeout). */
export interface UpstreamExchange {
  status: number | 'error';
  durationMs: number;
}

/** Statuses that say "not now" rather than "never": worth a retry after a pause. */
const RETRYABLE = new Set([429, 503]);
const BASE_BACKOFF_MS = 250;

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The fetch every IOmeter HTTP request goes through. It adds the provider's credentials, takes a slot
 * of the concurrency gate for the whole exchange (the body is read inside the slot), bounds the wait,
 * and turns transport failures into stable, masked GraphQL errors. After a 429 or 503 it waits as
 * IOmeter asks (Retry-After, else exponential back-off with jitter) and tries again, up to `retries`
 * times, only if the wait is at most `retryMaxDelayMs` and ends before the deadline; otherwise it
 * fails at once with UPSTREAM_UNAVAILABLE. GraphQL-level answers (2xx, and 4xx bodies such as
 * validation errors) pass through untouched.
 */
export function createUpstreamFetch(options: UpstreamFetchOptions): typeof fetch {
  const { authorization, timeoutMs, gate, queueTimeoutMs, retries, retryMaxDelayMs, maxResponseBytes, logger, onExchange } = options;

  return async function upstreamFetch(input, init = {}) {
    const deadline = startDeadline(timeoutMs, init.signal);
    try {
      return await exchange(input, init, deadline);
    } finally {
      deadline.clear();
    }
  } as typeof fetch;

  async function exchange(input: Parameters<typeof fetch>[0], init: RequestInit, deadline: Deadline): Promise<Response> {
    const headers = { ...headersObject(init.headers), authorization };
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const deadlineAt = Date.now() + timeoutMs;
    const { signal } = deadline;

    for (let attempt = 0; ; attempt += 1) {
      let release;
      try {
        release = await gate.acquire(Math.max(0, Math.min(queueTimeoutMs, deadlineAt - Date.now())), signal);
      } catch (error) {
        // No slot in time (or the client went away): IOmeter was never asked.
        throw deadline.expired ? upstreamError('UPSTREAM_UNAVAILABLE', error) : error;
      }
      let response: HttpAnswer;
      const sentAt = Date.now();
      try {
        // Straight over node:http: less work per request than the built-in fetch (undici's streams,
        // a body sent as an async iterable) and than whatwg-node's (src/upstream/httpExchange.ts).
        response = await exchangeOverHttp(url, { method: init.method ?? 'GET', headers, body: init.body as string | undefined, signal, maxBodyBytes: maxResponseBytes });
      } catch (error) {
        onExchange?.({ status: 'error', durationMs: Date.now() - sentAt });
        // A bad answer, not an outage: it does not count towards the circuit breaker.
        if (error instanceof AnswerTooLargeError) throw upstreamError('UPSTREAM_ERROR', error);
        throw upstreamError(deadline.expired ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', error);
      } finally {
        release();
      }
      onExchange?.({ status: response.status, durationMs: Date.now() - sentAt });

      const { status } = response;
      if (status === 401 || status === 403) throw upstreamError('UPSTREAM_UNAUTHORIZED');
      if (RETRYABLE.has(status)) {
        const delayMs =
          retryAfterMs(single(response.headers['retry-after'])) ??
          Math.min(retryMaxDelayMs, BASE_BACKOFF_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
        const fits = delayMs <= retryMaxDelayMs && Date.now() + delayMs < deadlineAt;
        if (attempt < retries && fits) {
          logger.debug({ upstream: 'iometer', status, attempt: attempt + 1, delayMs }, 'IOmeter asked to slow down; retrying');
          try {
            await sleep(delayMs, signal);
          } catch (error) {
            throw deadline.expired ? upstreamError('UPSTREAM_TIMEOUT', error) : error;
          }
          continue;
        }
        throw upstreamError('UPSTREAM_UNAVAILABLE', new Error(`IOmeter answered ${status} (attempt ${attempt + 1}, retry-after ${Math.round(delayMs)} ms)`));
      }
      if (status >= 500) throw upstreamError('UPSTREAM_UNAVAILABLE', new Error(`IOmeter answered ${status}`));
      const nullBody = status === 204 || status === 205 || status === 304;
      return new Response(nullBody ? null : (response.body as Uint8Array<ArrayBuffer>), { status, statusText: response.statusText, headers: response.headers as Record<string, string> });
    }
  }
}

/** executor-http passes a plain object; any other HeadersInit is flattened the same way. */
function headersObject(init: HeadersInit | undefined): Record<string, string> {
  if (init === undefined) return {};
  if (init instanceof Headers || Array.isArray(init)) return Object.fromEntries(init instanceof Headers ? init.entries() : init);
  return init as Record<string, string>;
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? null;
