import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, any> }> };
  text: string;
}

export async function postGraphQL<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
}

export interface Subscribed<T> {
  results: T[];
  /** Resolves once `count` results arrived, or the stream ended or failed. */
  done: Promise<T[]>;
  close(): void;
}

type Sink<T> = { next: (value: T) => void; error: (error: unknown) => void; complete: () => void };

/**
 * A count for a subscription held open until the test closes it: a finite one ends it (and frees its
 * slot, leaves its group) once that many readings arrived, which a busy machine reaches mid-test.
 */
export const UNTIL_CLOSED = Number.POSITIVE_INFINITY;

function collect<T>(count: number, subscribe: (sink: Sink<T>) => () => void, dispose: () => void): Subscribed<T> {
  const results: T[] = [];
  let unsubscribe = () => {};
  const done = new Promise<T[]>((resolve, reject) => {
    unsubscribe = subscribe({
      next: (value) => {
        if (results.length >= count) return;
        results.push(value);
        if (results.length === count) resolve(results);
      },
      // graphql-ws reports an operation's GraphQL errors in an `error` message, SSE in a `next`
      // event; both reach the client as errors for this operation, so both become a result here.
      error: (error) => {
        if (!Array.isArray(error)) return reject(error);
        results.push({ errors: error } as T);
        resolve(results);
      },
      complete: () => resolve(results),
    });
  });
  const close = () => {
    unsubscribe();
    dispose();
  };
  return { results, done: done.finally(close), close };
}

export function subscribeWs<T = any>(
  url: string,
  query: string,
  count: number,
  options: { variables?: Record<string, unknown>; connectionParams?: Record<string, unknown> } = {},
): Subscribed<T> {
  const client = createWsClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: options.connectionParams,
  });
  return collect<T>(
    count,
    (sink) => client.subscribe({ query, variables: options.variables }, sink as any),
    () => void client.dispose(),
  );
}

export function subscribeSse<T = any>(
  url: string,
  query: string,
  count: number,
  options: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Subscribed<T> {
  const client = createSseClient({ url, retryAttempts: 0, headers: options.headers });
  return collect<T>(
    count,
    (sink) => client.subscribe({ query, variables: options.variables }, sink as any),
    () => client.dispose(),
  );
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

/**
 * The raw event stream of one SSE subscription, ids included (graphql-sse's client hides them), as
 * an EventSource would see it. Stops after `count` `next` events, then closes the connection.
 */
export async function readSseEvents(
  url: string,
  query: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query }),
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue; // comments (keep-alive pings) and blank lines
          fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
        }
        if (fields.get('event') !== 'next') continue;
        events.push({ id: fields.get('id'), event: 'next', data: JSON.parse(fields.get('data') ?? 'null') });
        if (events.length === count) return events;
      }
    }
    return events;
  } finally {
    abort.abort();
  }
}
