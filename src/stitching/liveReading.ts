/** The part of a client's context a live reading needs: the hub that handed the payload out. */
export interface LiveReadingContext {
  readingHub: { positionOf(payload: object): string | undefined };
}

/** Per operation context, the position of the reading being executed, until the SSE writer takes it. */
const eventPositions = new WeakMap<object, string | undefined>();

/**
 * The `resolve` of every live-readings subscription field. It passes the payload through and notes
 * its position, which becomes the SSE event id of the result it is executed into (useSseResume).
 * (A subscription's stitched customer fields and lazy installation fields use the process-wide
 * expiring loaders: useLiveLookups.)
 */
export function liveReading<T extends object>(payload: T, _args: unknown, context: LiveReadingContext): T {
  eventPositions.set(context, context.readingHub.positionOf(payload));
  return payload;
}

/** Notes the position of the result about to be sent, for an operation whose result was executed elsewhere (a shared live group). */
export function noteEventPosition(context: object, position: string | undefined): void {
  eventPositions.set(context, position);
}

/**
 * The position of the reading the operation's latest result was executed from, once: graphql-js
 * executes a subscription's events one at a time, so it belongs to the result about to be sent.
 */
export function takeEventPosition(context: object): string | undefined {
  const position = eventPositions.get(context);
  eventPositions.delete(context);
  return position;
}
