import { Kind, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Identity } from '../identity';
import { noteEventPosition, takeEventPosition } from '../stitching/liveReading';
import { compiledLiveSubscription } from './compiledLiveSubscription';
import { SharedResult, type FrameSink, type LiveGroups } from '../subscriptions';

/** The live-readings fields whose events depend only on the reading, the document and the subscriber's scope. */
const LIVE_FIELDS = new Set(['readings', 'scheduledReadings', 'myReadings']);

interface SharedLiveContext {
  readingHub: { liveGroups: LiveGroups };
  /** Set by the WebSocket transport: the operation's own `next` messages, written around the group's serialized results. */
  liveFrames?: FrameSink;
  identity?: Identity;
  /** A resume (SSE Last-Event-ID) replays for this client alone. */
  lastEventId?: string;
}

export interface SharedLiveExecutionOptions {
  /** yoga's maskedErrors.maskError: results written straight to a socket skip yoga's own masking. */
  maskError: (error: unknown, message: string) => Error;
}

/** yoga's default masked message. */
const UNEXPECTED_ERROR = 'Unexpected error.';

/** Documents by identity: yoga's parser cache hands the same DocumentNode to every operation with the same text. */
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

function documentId(document: DocumentNode): number {
  let id = documentIds.get(document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(document, id);
  }
  return id;
}

/**
 * The operation's live-readings field, when its events can be shared: one root field of LIVE_FIELDS,
 * written out (no fragment), without a startTime replay. Anything else runs on its own.
 */
function sharedLiveField(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (operation?.operation !== 'subscription' || operation.selectionSet.selections.length !== 1) return false;
  const [field] = operation.selectionSet.selections;
  return field?.kind === Kind.FIELD && LIVE_FIELDS.has(field.name.value) && !field.arguments?.some((argument) => argument.name.value === 'startTime');
}

/** Who may see what: every staff member sees every installation; a customer only their own. */
function scopeOf(identity: Identity | undefined): string | undefined {
  if (identity?.role === 'staff') return 'staff';
  if (identity?.role === 'customer') return `customer:${identity.externalId}`;
  return undefined;
}

/**
 * The member's results as the subscription's own (SSE): each carries its reading's position onto the
 * member's context (SSE ids), and yoga writes the group's one serialization of it. Promise chains, not async functions: a subscriber waits in next() for most of its
 * life, and a suspended async function holds a generator and its registers per subscriber.
 */
function memberResults(member: AsyncIterableIterator<SharedResult>, context: object): AsyncIterableIterator<ExecutionResult> {
  return {
    next: () =>
      member.next().then((next): IteratorResult<ExecutionResult> => {
        if (next.done) return next;
        noteEventPosition(context, next.value.position);
        return { value: next.value.forYoga, done: false };
      }),
    return: async () => (await member.return!(), { value: undefined, done: true }),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Shared execution of live readings (issue 13): subscribers of the same operation (document, operation
 * name, variables) in the same scope (staff, or one customer's installation) join one group, whose one
 * subscription executes each reading once (stitched fields through the process's expiring loaders,
 * useLiveLookups) for all of them, where it can by the operation compiled once (compiledLiveSubscription):
 * a customer on myReadings is a group of one, so that is the cost of each delivery. A compiled group
 * stands in for the subscribe function of the plugins before this one: the engine's, and the rate
 * limits' slot release on a throw, which each member's own result still triggers at its end. Each
 * member's results still pass through the other plugins' hooks, and its transport sends them with its
 * own operation id. A resume (Last-Event-ID) or a startTime
 * replay is per client and runs on its own, as does anything not a live-readings field.
 */
export function useSharedLiveExecution({ maskError }: SharedLiveExecutionOptions): Plugin<SharedLiveContext> {
  // What yoga's masked errors would make of a result on its way to the client, done once for the group.
  const serialize = (result: ExecutionResult) =>
    JSON.stringify(result.errors ? { ...result, errors: result.errors.map((error) => maskError(error, UNEXPECTED_ERROR)) } : result);
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue;
      const scope = scopeOf(context.identity);
      if (scope === undefined || context.lastEventId || !sharedLiveField(args.document, args.operationName)) return;
      const key = [scope, documentId(args.document), args.operationName ?? '', JSON.stringify(args.variableValues ?? {})].join('\n');
      setSubscribeFn((memberArgs) => {
        // The first member's subscription serves the group: same operation, same scope. A member whose
        // results go through yoga (SSE) notes each result's position on its own context, so the group gets a
        // copy of it (not Object.create: every copy has the same shape, where each prototype would make one
        // of its own). A member writing to its sink never reads its context again: the group takes it as is,
        // one context per group of one (a customer on myReadings) instead of two.
        const openGroup = async () => {
          const contextValue: object = context.liveFrames ? (memberArgs.contextValue as object) : { ...(memberArgs.contextValue as object) };
          const compiled = compiledLiveSubscription(memberArgs.schema, memberArgs.document, memberArgs.operationName);
          const results = compiled
            ? await compiled.subscribe(memberArgs.rootValue, contextValue, memberArgs.variableValues)
            : await subscribeFn({ ...memberArgs, contextValue });
          // A refused subscription (bad arguments) is one result with errors, then the end, for every member.
          const stream = isAsyncIterable<ExecutionResult>(results) ? results[Symbol.asyncIterator]() : [results as ExecutionResult][Symbol.iterator]();
          return sharedResults(stream, contextValue, serialize);
        };
        const { liveGroups } = context.readingHub;
        // A member whose transport writes the group's bytes itself yields nothing; it needs no wrapper.
        if (context.liveFrames) return liveGroups.join(key, openGroup, context.liveFrames);
        return memberResults(liveGroups.join(key, openGroup), memberArgs.contextValue as object);
      });
    },
  };
}

/** The group's results with the position each one's reading was at (noted by liveReading on the group's context); a promise chain, as memberResults. */
function sharedResults(results: AsyncIterator<ExecutionResult> | Iterator<ExecutionResult>, context: object, serialize: (result: ExecutionResult) => string): AsyncIterator<SharedResult> {
  return {
    next: () =>
      Promise.resolve(results.next()).then((next): IteratorResult<SharedResult> => {
        if (next.done) return next;
        return { value: new SharedResult(next.value, takeEventPosition(context), serialize), done: false };
      }),
    return: async () => (await results.return?.(), { value: undefined, done: true }),
  };
}
