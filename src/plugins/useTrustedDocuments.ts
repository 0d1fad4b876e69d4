import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Identity } from '../identity';
import { identityOf } from './useAuthentication';

/**
 * Trusted documents (PERSISTED_OPERATIONS_FILE): a JSON object mapping each operation's hash to
 * its document. Customers may run only these, sent by hash; staff may still send any document.
 */
export class TrustedDocuments {
  private constructor(private readonly byHash: ReadonlyMap<string, string>) {}

  static load(file: string): TrustedDocuments {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`PERSISTED_OPERATIONS_FILE: cannot read ${file} as JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((value) => typeof value !== 'string')) {
      throw new Error('PERSISTED_OPERATIONS_FILE: expected a JSON object of { "<hash>": "<document>" }');
    }
    return new TrustedDocuments(new Map(Object.entries(parsed as Record<string, string>)));
  }

  get(hash: string): string | null {
    return this.byHash.get(hash) ?? null;
  }

  /** The document a WebSocket subscriber may run: its own for staff, the trusted one by hash for others. */
  documentFor(identity: Identity, params: { query?: string; extensions?: Record<string, unknown> | null }): string {
    if (maySendAnyDocument(identity) && params.query) return params.query;
    if (params.query) throw new GraphQLError(errors.persistedQueryOnly.message, errors.persistedQueryOnly);
    const hash = (params.extensions?.persistedQuery as { sha256Hash?: string } | undefined)?.sha256Hash;
    if (!hash) throw new GraphQLError(errors.keyNotFound.message, errors.keyNotFound);
    const document = this.get(hash);
    if (!document) throw new GraphQLError(errors.notFound.message, errors.notFound);
    return document;
  }
}

/** One message and code per refusal, the same over HTTP and WebSocket. */
const errors = {
  persistedQueryOnly: {
    message: 'Only trusted documents, sent by hash, are accepted.',
    extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
  },
  keyNotFound: {
    message: 'A trusted document hash (extensions.persistedQuery.sha256Hash) is required.',
    extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', http: { status: 400 } },
  },
  notFound: {
    message: 'Unknown trusted document.',
    extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
  },
};

/** Staff may still send any document, over HTTP and WebSocket alike. */
function maySendAnyDocument(identity: Identity | undefined): boolean {
  return identity?.role === 'staff';
}

/** Over HTTP, yoga's persisted-operations plugin; the WebSocket path asks documentFor. Without documents, nothing. */
export function useTrustedDocuments({ documents }: { documents?: TrustedDocuments }): Plugin {
  if (!documents) return {};
  return usePersistedOperations({
    getPersistedOperation: (hash) => documents.get(hash),
    allowArbitraryOperations: (request) => maySendAnyDocument(identityOf({ request })),
    customErrors: errors,
  });
}
