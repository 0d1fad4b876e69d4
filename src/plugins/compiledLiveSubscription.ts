import { BREAK, createSourceEventStream, getOperationAST, GraphQLError, visit, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { isAsyncIterable } from 'graphql-yoga';

/** A live-readings operation compiled for its groups. */
export interface CompiledLiveSubscription {
  /** The subscription's results, one per reading; or the one result with errors of a refused subscription. */
  subscribe(rootValue: unknown, contextValue: object, variableValues: Record<string, unknown> | null | undefined): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

/** Directives graphql-jit does not execute; documents with them keep yoga's executor. */
const INCREMENTAL = new Set(['defer', 'stream']);

function usesIncrementalDelivery(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (!INCREMENTAL.has(node.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** Per schema, per document (yoga's parser cache hands one DocumentNode to every operation with the same text), per operation name. */
const compiledOperations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, CompiledLiveSubscription | null>>>();

/**
 * A live-readings subscription compiled once (graphql-jit) for every group and reading of its
 * document: a reading of a group of one (a customer on myReadings) costs one call of generated code
 * instead of yoga's executor building an execution context, collecting fields and mapping each event
 * through its async iterators. Resolvers, scalars and errors are the schema's own. Undefined where
 * the executor has to run it (@defer / @stream, or a document graphql-jit cannot compile).
 */
export function compiledLiveSubscription(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledLiveSubscription | undefined {
  let bySchema = compiledOperations.get(schema);
  if (!bySchema) compiledOperations.set(schema, (bySchema = new WeakMap()));
  let byDocument = bySchema.get(document);
  if (!byDocument) bySchema.set(document, (byDocument = new Map()));
  const name = operationName ?? '';
  let compiled = byDocument.get(name);
  if (compiled === undefined) {
    compiled = compile(schema, document, operationName);
    byDocument.set(name, compiled);
  }
  return compiled ?? undefined;
}

function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledLiveSubscription | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || usesIncrementalDelivery(document)) return null;
  const compiled = compileQuery(schema, document, operationName ?? undefined);
  if (!isCompiledQuery(compiled)) return null;
  const locate = (error: Error) => new GraphQLError(error.message, { originalError: error, nodes: [operation] });
  return {
    // The source stream as graphql-js opens it: graphql-jit's own subscribe hands the field its variables as arguments.
    subscribe: async (rootValue, contextValue, variableValues) => {
      const source = await createSourceEventStream({ schema, document, rootValue, contextValue, variableValues, operationName });
      if (!isAsyncIterable(source)) return source;
      return eventResults(source[Symbol.asyncIterator](), (payload) => compiled.query(payload, contextValue, variableValues ?? {}), locate);
    },
  };
}

/**
 * Each event of the source executed into its result, as the executor maps them: a failing source
 * (UPSTREAM_UNAVAILABLE, SLOW_CONSUMER, …) is an error located at the operation, with the source
 * error's extensions; an execution that throws closes the source.
 */
function eventResults(
  source: AsyncIterator<unknown>,
  execute: (payload: unknown) => ExecutionResult | Promise<ExecutionResult>,
  locate: (error: Error) => GraphQLError,
): AsyncIterableIterator<ExecutionResult> {
  const executed = (next: IteratorResult<unknown>): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
    if (next.done) return next;
    try {
      const result = execute(next.value);
      return result instanceof Promise ? result.then((value): IteratorResult<ExecutionResult> => ({ value, done: false })) : { value: result, done: false };
    } catch (error) {
      void source.return?.();
      throw error;
    }
  };
  return {
    next: () =>
      source.next().then(executed, (error: unknown) => {
        throw locate(error instanceof Error ? error : new Error(String(error)));
      }),
    return: async () => (await source.return?.(), { value: undefined, done: true }),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
