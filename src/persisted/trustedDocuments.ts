import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import type { Identity } from '../identity';
import type { Logger } from '../logging/logger';

/** One message and code per refusal, the same over HTTP and WebSocket. */
export const trustedDocumentErrors = {
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

/** How often the manifests are checked for changes (a stat per file). */
const RELOAD_INTERVAL_MS = 2_000;

/** The manifest files at `path`: the file itself, or every `*.json` in the directory. */
function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(path, name));
}

/** Hash → document of every manifest; a hash two manifests give different documents stops the load. */
function readManifests(files: ReadonlyArray<string>): Map<string, string> {
  const byHash = new Map<string, string>();
  for (const file of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`PERSISTED_OPERATIONS_FILE: cannot read ${file} as JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((value) => typeof value !== 'string')) {
      throw new Error(`PERSISTED_OPERATIONS_FILE: ${file}: expected a JSON object of { "<hash>": "<document>" }`);
    }
    for (const [hash, document] of Object.entries(parsed as Record<string, string>)) {
      if (byHash.has(hash) && byHash.get(hash) !== document) throw new Error(`PERSISTED_OPERATIONS_FILE: ${file}: hash ${hash} names another document in an earlier manifest`);
      byHash.set(hash, document);
    }
  }
  return byHash;
}

/** What changes when a manifest is added, removed or rewritten. */
function signatureOf(path: string): string {
  return manifestFiles(path)
    .map((file) => {
      const { mtimeMs, size } = statSync(file);
      return `${file}:${mtimeMs}:${size}`;
    })
    .join('|');
}

/**
 * Trusted documents (PERSISTED_OPERATIONS_FILE): manifests mapping each operation's hash to its
 * document, as GraphQL Codegen's client preset writes them (persisted-documents.json). The path is one
 * manifest or a directory of them (one per app version, all in force at once). They are checked every
 * 2 s and reloaded on a change, without a restart; a broken change is logged and the documents in
 * force stay. Customers may run only these, sent by hash; staff may still send any document.
 */
export class TrustedDocuments {
  private byHash: ReadonlyMap<string, string>;
  private signature: string;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {
    this.signature = signatureOf(path);
    this.byHash = readManifests(manifestFiles(path));
    this.timer = setInterval(() => this.reloadIfChanged(), RELOAD_INTERVAL_MS);
    this.timer.unref();
  }

  /** Loads the manifests at `path` (throwing when one is unreadable) and keeps watching them. */
  static load(path: string, logger: Logger): TrustedDocuments {
    return new TrustedDocuments(path, logger);
  }

  get size(): number {
    return this.byHash.size;
  }

  get(hash: string): string | null {
    return this.byHash.get(hash) ?? null;
  }

  /** The document a WebSocket subscriber may run: its own for staff, the trusted one by hash for others. */
  documentFor(identity: Identity, params: { query?: string; extensions?: Record<string, unknown> | null }): string {
    const errors = trustedDocumentErrors;
    if (identity.role === 'staff' && params.query) return params.query;
    if (params.query) throw new GraphQLError(errors.persistedQueryOnly.message, errors.persistedQueryOnly);
    const hash = (params.extensions?.persistedQuery as { sha256Hash?: string } | undefined)?.sha256Hash;
    if (!hash) throw new GraphQLError(errors.keyNotFound.message, errors.keyNotFound);
    const document = this.get(hash);
    if (!document) throw new GraphQLError(errors.notFound.message, errors.notFound);
    return document;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private reloadIfChanged(): void {
    try {
      const signature = signatureOf(this.path);
      if (signature === this.signature) return;
      this.signature = signature;
      this.byHash = readManifests(manifestFiles(this.path));
      this.logger.info({ path: this.path, documents: this.byHash.size }, 'trusted documents reloaded');
    } catch (error) {
      this.logger.error({ path: this.path, reason: (error as Error).message }, 'trusted documents unchanged: the new manifests cannot be loaded');
    }
  }
}
