import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { defaultExtractPersistedOperationId, usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Identity } from '../identity';
import { documentHash, type ApqStore } from '../persisted/apqStore';
import { trustedDocumentErrors as errors, type TrustedDocuments } from '../persisted/trustedDocuments';
import { composePlugins } from './compose';
import { identityOf } from './useAuthentication';

/**
 * APQ's own refusals, spelled as Apollo's clients expect them: Apollo Kotlin and iOS look for the
 * message `PersistedQueryNotFound` (then send the document with its hash), Apollo Client for the code.
 * 200 like Apollo Server, so clients read the body rather than give up on the status.
 */
const apqErrors = {
  notFound: { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
  /** Without a trusted-documents list, a request with neither document nor hash is told what yoga tells it. */
  noDocument: { message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
  hashMismatch: {
    message: 'provided sha does not match query',
    extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH', http: { status: 400 } },
  },
};

/**
 * The hash in a `documentId` request parameter (a POST body's, or a GET query string's, which yoga's
 * parser leaves out), without a `sha256:` prefix.
 */
function documentIdOf(params: GraphQLParams & { documentId?: unknown }, request: Request): string | null {
  const documentId = params.documentId ?? (request.method === 'GET' ? new URL(request.url).searchParams.get('documentId') : null);
  return typeof documentId === 'string' ? documentId.replace(/^sha256:/, '') : null;
}

/** Staff may send any document; customers too unless trusted documents are configured. */
function maySendAnyDocument(identity: Identity | undefined, trustedOnly: boolean): boolean {
  return identity?.role === 'staff' || (identity !== undefined && !trustedOnly);
}

export interface PersistedDocumentsOptions {
  /** PERSISTED_OPERATIONS_FILE: customers may then run only these. */
  documents?: TrustedDocuments;
  /** Documents registered through APQ, for callers who may send any document. */
  apq: ApqStore;
}

/**
 * Documents sent by hash (`extensions.persistedQuery.sha256Hash`), through yoga's persisted-operations
 * plugin: a trusted document (PERSISTED_OPERATIONS_FILE) for anyone; otherwise, for callers who may
 * send any document, one registered through automatic persisted queries (APQ). APQ: a hash alone that
 * is not registered gets `PersistedQueryNotFound`; the client then sends the document with its hash,
 * which is checked against the document and registered once the operation has passed validation, so
 * only valid documents are kept. Customers under a trusted-documents list stay limited to it. The
 * WebSocket path asks documentFor (trusted documents only).
 */
export function usePersistedDocuments({ documents, apq }: PersistedDocumentsOptions): Plugin {
  const trustedOnly = documents !== undefined;
  const mayRegister = (request: Request) => maySendAnyDocument(identityOf({ request }), trustedOnly);
  /** A document sent with its hash, to register once its operation has passed validation. */
  const pending = new WeakMap<object, { hash: string; document: string }>();
  // Awaited (registrations are rare): a replica asked for the hash right after this answer finds it.
  const register = async ({ args }: { args: { contextValue: unknown } }) => {
    const registration = pending.get(args.contextValue as object);
    if (registration) await apq.set(registration.hash, registration.document);
  };

  const registration: Plugin = {
    onParams({ request, params, context }: { request: Request; params: GraphQLParams; context: Record<string, unknown> }) {
      const hash = defaultExtractPersistedOperationId(params, request, context);
      if (!hash || !params.query || !mayRegister(request)) return;
      if (documentHash(params.query) !== hash) throw new GraphQLError(apqErrors.hashMismatch.message, apqErrors.hashMismatch);
      pending.set(context, { hash, document: params.query });
    },
    onExecute: register,
    onSubscribe: register,
  };
  const lookup = usePersistedOperations({
    // GraphQL Codegen's client preset sends `documentId` (optionally `sha256:`-prefixed), Apollo's clients the extension.
    extractPersistedOperationId: (params, request, context) =>
      documentIdOf(params, request) ?? defaultExtractPersistedOperationId(params, request, context),
    getPersistedOperation: (hash, request) => documents?.get(hash) ?? (mayRegister(request) ? apq.get(hash) : null),
    allowArbitraryOperations: mayRegister,
    customErrors: {
      ...errors,
      keyNotFound: trustedOnly ? errors.keyNotFound : apqErrors.noDocument,
      // A caller who may register documents is told in APQ's words; a customer limited to trusted documents is not.
      notFound: ({ request }) =>
        mayRegister(request)
          ? new GraphQLError(apqErrors.notFound.message, apqErrors.notFound)
          : new GraphQLError(errors.notFound.message, errors.notFound),
    },
  });
  return composePlugins([registration, lookup]);
}
