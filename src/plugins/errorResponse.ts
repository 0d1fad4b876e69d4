import type { GraphQLError } from 'graphql';

/** A GraphQL error as a whole HTTP response, for hooks that answer before yoga has a result. */
export function errorResponse(error: GraphQLError, fetchAPI: { Response: typeof Response }, defaultStatus: number): Response {
  const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] }), {
    status: http.status ?? defaultStatus,
    headers: { 'content-type': 'application/json; charset=utf-8', ...http.headers },
  });
}
