import { GraphQLError } from 'graphql';

/** Errors a client can act on. They carry a code and pass Yoga's error masking unchanged. */

export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND' } });
}
