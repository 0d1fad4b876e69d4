import { GraphQLError } from 'graphql';
import type { YogaLogger } from 'graphql-yoga';
import type { Logger } from '../logging/logger';
import { isUpstreamErrorCode } from '../upstream/errors';
import { publicCode } from './errorMasking';

/** Enough of a client's bad input to recognise it in the log, never all of a large document. */
const MAX_LOGGED_MESSAGE = 200;

/**
 * yoga's logger, over the gateway's. yoga logs every error its maskError replaces, twice (once in
 * maskError, once in handleError), at ERROR with a stack trace, and the gateway's masker replaces
 * even client errors (to trim their extensions). Here each error is logged once, and at the level
 * its cause deserves: a client's mistake (a public code such as GRAPHQL_PARSE_FAILED, BAD_REQUEST,
 * RATE_LIMITED) is one info line with its code; an upstream failure is already logged (warn) by the
 * masker; everything else is the gateway's own fault and stays at ERROR with its stack.
 */
export function createYogaLogger(logger: Logger): YogaLogger {
  const logged = new WeakSet<object>();
  return {
    debug: (...args) => logger.debug(args.join(' ')),
    info: (...args) => logger.info(args.join(' ')),
    warn: (...args) => logger.warn(args.join(' ')),
    error: (...args) => {
      const [error] = args;
      if (typeof error === 'object' && error !== null) {
        if (logged.has(error)) return;
        logged.add(error);
      }
      const code = error instanceof GraphQLError ? publicCode(error) : undefined;
      if (code === undefined) return logger.error({ err: error }, error instanceof Error ? error.message : 'unexpected error');
      if (isUpstreamErrorCode(code)) return;
      logger.info({ code, reason: (error as GraphQLError).message.slice(0, MAX_LOGGED_MESSAGE) }, 'client error');
    },
  };
}
