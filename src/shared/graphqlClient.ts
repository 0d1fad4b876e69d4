/**
 * The app and version a request says it comes from: `graphql-client-name` / `graphql-client-version`
 * (GraphQL Hive, Cosmo, Yoga) or Apollo's `apollographql-client-name` / `apollographql-client-version`.
 * Client-chosen text, so each is trimmed and cut to MAX_CLIENT_FIELD_LENGTH characters; blank is absent.
 */
export interface GraphQLClient {
  name?: string;
  version?: string;
}

export const MAX_CLIENT_FIELD_LENGTH = 64;

/** A request header's value by its lower-case name, however the transport keeps headers. */
export type HeaderLookup = (name: string) => string | null | undefined;

function field(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, MAX_CLIENT_FIELD_LENGTH) : undefined;
}

export function graphqlClientOf(header: HeaderLookup): GraphQLClient {
  return {
    name: field(header('graphql-client-name') ?? header('apollographql-client-name')),
    version: field(header('graphql-client-version') ?? header('apollographql-client-version')),
  };
}
