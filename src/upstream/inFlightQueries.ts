import type { ExecutionRequest, ExecutionResult, Executor } from '@graphql-tools/utils';
import { print, stripIgnoredCharacters, type DocumentNode } from 'graphql';

const printed = new WeakMap<DocumentNode, string>();

/**
 * A document as it goes to IOmeter, without ignored characters: printed once per document object
 * (a planned operation sends the same one every time). The HTTP executor sends this text too.
 */
export function upstreamText(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = stripIgnoredCharacters(print(document))));
  return text;
}

const readOnlyRequests = new WeakSet<ExecutionRequest>();

/** Marks a request whose caller only reads its answer: it may share that answer with other such callers. */
export function readOnly<Request extends ExecutionRequest>(request: Request): Request {
  readOnlyRequests.add(request);
  return request;
}

/** One IOmeter request on its way, and its callers (true: read-only) by the order they came in. */
interface Shared {
  readOnly: boolean[];
  /** The answer for each caller, in that order. */
  results: Promise<ExecutionResult[]>;
}

/**
 * In-flight deduplication of identical queries, in place of executor-http's, which deep-copies every
 * result it hands out, shared or not (≈ 5 % of the gateway's CPU for a list of installations). Queries
 * with the same text, operation name, variables and extensions as one on its way to IOmeter wait for
 * its answer. A lone caller gets the answer itself; so do callers that only read it (readOnly: a
 * planned operation). Every other caller of a shared answer gets a copy of its data, made before any
 * caller runs on, since delegation annotates results in place.
 */
export function deduplicateInFlight(execute: Executor): Executor {
  const inFlight = new Map<string, Shared>();
  return async (request) => {
    const key = JSON.stringify([upstreamText(request.document), request.operationName ?? null, request.variables ?? null, request.extensions ?? null]);
    let shared = inFlight.get(key);
    if (!shared) {
      const answer = (async () => (await execute(request)) as ExecutionResult)();
      const started: Shared = {
        readOnly: [],
        results: answer.then(
          (result) => {
            inFlight.delete(key);
            if (started.readOnly.length === 1) return [result];
            return started.readOnly.map((readOnly) => (readOnly ? result : { ...result, data: structuredClone(result.data) }));
          },
          (error: unknown) => {
            inFlight.delete(key);
            throw error;
          },
        ),
      };
      inFlight.set(key, (shared = started));
    }
    const caller = shared.readOnly.push(readOnlyRequests.has(request)) - 1;
    return (await shared.results)[caller]!;
  };
}
