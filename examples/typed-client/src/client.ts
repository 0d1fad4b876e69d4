import type { TypedDocumentString } from './gql/graphql';

export class GatewayError extends Error {
  constructor(readonly errors: ReadonlyArray<{ message: string; extensions?: { code?: string } }>) {
    super(errors.map((error) => error.message).join('; '));
  }
}

/**
 * Runs one generated operation against the gateway. Result and variables are typed by the operation,
 * so a field the contract drops fails this project's type check, not a customer's screen.
 */
export async function execute<TResult, TVariables>(
  endpoint: string,
  operation: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<TResult> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query: operation.toString(), variables }),
  });
  const body = (await response.json()) as { data?: TResult; errors?: GatewayError['errors'] };
  if (body.errors?.length) throw new GatewayError(body.errors);
  if (!body.data) throw new Error(`gateway answered ${response.status} without data`);
  return body.data;
}
