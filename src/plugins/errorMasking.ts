import { GraphQLError } from 'graphql';
import type { Logger } from '../logging/logger';
import { boundedMessage } from '../shared/quote';
import { isUpstreamErrorCode } from '../upstream/errors';

/** Codes a client may see and branch on. Anything else is an internal detail and gets masked. */
const PUBLIC_CODES = new Set([
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'AUTH_UNAVAILABLE',
  'FORBIDDEN',
  'RATE_LIMITED',
  'SLOW_CONSUMER',
  'RATE_LIMIT_UNAVAILABLE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_ONLY',
  'PERSISTED_QUERY_ID_REQUIRED',
]);

/** Extension keys that are safe to forward; upstream request/response dumps are not among them. */
const PUBLIC_EXTENSION_KEYS = ['code', 'field', 'http'];

/** The code a client would see for this error, if it is one a client may see at all. */
export function publicCode(error: GraphQLError): string | undefined {
  const code = error.extensions?.code;
  if (typeof code === 'string' && (PUBLIC_CODES.has(code) || isUpstreamErrorCode(code))) return code;
  const original = error.originalError;
  return original instanceof GraphQLError ? publicCode(original) : undefined;
}

function pick(extensions: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => extensions[key] !== undefined).map((key) => [key, extensions[key]]));
}

/**
 * Yoga's maskError hook: known, client-facing errors keep their message and a trimmed set of
 * extensions; everything else is logged with the request context and replaced by a generic message.
 */
export function createErrorMasker(logger: Logger) {
  return function maskError(error: unknown, message: string): Error {
    if (error instanceof GraphQLError) {
      const code = publicCode(error);
      if (code) {
        const source = error.extensions?.code === code ? error : (error.originalError as GraphQLError);
        const extensions = { ...pick(source.extensions ?? {}, PUBLIC_EXTENSION_KEYS), code };
        if (isUpstreamErrorCode(code) && error.originalError) {
          logger.warn({ err: error.originalError, code, path: error.path }, 'upstream failure');
        }
        return new GraphQLError(boundedMessage(source.message), {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions,
        });
      }
      // Variable coercion failures describe the client's own input: safe to show, and a 400.
      // graphql-js quotes the whole value, however large: the message is cut.
      if (!error.path && error.message.startsWith('Variable "$')) {
        return new GraphQLError(boundedMessage(error.message), {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
        });
      }
      // Parse and validation errors: yoga adds their codes after masking.
      if (!error.path && !error.originalError) {
        if (boundedMessage(error.message) === error.message) return error;
        return new GraphQLError(boundedMessage(error.message), {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          extensions: error.extensions,
        });
      }
    }
    logger.error({ err: error }, 'unexpected error');
    return new GraphQLError(message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
}
