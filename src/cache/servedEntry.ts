import type { ExecutionResult } from 'graphql';

/**
 * A cached answer as a hit serves it: the extensions the gateway and yoga read (the cache's `ttl` and
 * `storedAt`, the ETag and Last-Modified in `http`) and the body the client receives, serialized once
 * when the entry was stored. yoga sends what a result's `stringify` returns instead of serializing the
 * result itself, so a hit neither parses nor serializes its data.
 */
export type ServedEntry = ExecutionResult & { stringify: () => string };

/** What the client receives of a stored result: yoga drops `http` from extensions, the gateway `responseCache`. */
function clientBody(result: ExecutionResult): string {
  const { http: _http, responseCache: _metadata, ...extensions } = result.extensions ?? {};
  const { extensions: _extensions, ...rest } = result;
  return JSON.stringify(Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest);
}

const served = (extensions: ExecutionResult['extensions'], body: string): ServedEntry => ({ extensions, stringify: () => body });

/** The in-process form of an entry (memory store). */
export function servedEntryOf(result: ExecutionResult): ServedEntry {
  return served(result.extensions, clientBody(result));
}

/**
 * The stored form of an entry (Redis): its extensions as JSON on the first line, the client's body
 * after it. JSON.stringify escapes newlines inside strings, so the first newline ends the extensions.
 */
export function encodeEntry(result: ExecutionResult): string {
  return `${JSON.stringify(result.extensions ?? {})}\n${clientBody(result)}`;
}

/** The entry `encodeEntry` stored; undefined for anything else (an entry an older gateway wrote as one JSON document). */
export function decodeEntry(raw: string): ServedEntry | undefined {
  const newline = raw.indexOf('\n');
  if (newline < 0) return undefined;
  return served(JSON.parse(raw.slice(0, newline)) as ExecutionResult['extensions'], raw.slice(newline + 1));
}
