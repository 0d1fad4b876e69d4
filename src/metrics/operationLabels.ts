import { getOperationAST, type DocumentNode } from 'graphql';

/** Longest operation name a metric label or a log line carries; longer names are cut (logs) or `other` (labels). */
export const MAX_OPERATION_NAME_LENGTH = 64;

/** Distinct operation-name label values a gateway keeps; names beyond them count as `other`. */
export const MAX_OPERATION_NAME_SERIES = 200;

/** The name of an operation that did not run, or that the document does not hold. */
export const INVALID_OPERATION = 'invalid';

/** Label of every name past the series cap or the length bound. */
export const OTHER_OPERATIONS = 'other';

const FIXED_LABELS = new Set(['Anonymous', INVALID_OPERATION, OTHER_OPERATIONS, 'none']);

/**
 * The operation `operationName` selects in `document`, by the document's own name for it (never the
 * client's text): `Anonymous` for an unnamed one, `invalid` (type `unknown`) when the document holds
 * no such operation (or holds several and the client named none).
 */
export function operationIn(
  document: DocumentNode | null | undefined,
  operationName: string | null | undefined,
): { name: string; type: string } {
  const operation = document ? getOperationAST(document, operationName ?? undefined) : null;
  if (!operation) return { name: INVALID_OPERATION, type: 'unknown' };
  return { name: operation.name?.value ?? 'Anonymous', type: operation.operation };
}

/** A name as a log line carries it: at most MAX_OPERATION_NAME_LENGTH characters. */
export function boundedOperationName(name: string): string {
  return name.length > MAX_OPERATION_NAME_LENGTH ? `${name.slice(0, MAX_OPERATION_NAME_LENGTH)}…` : name;
}

/**
 * The operation-name label values of one registry. Every distinct value is a series per metric, kept
 * until the process ends, so the set is bounded: the first MAX_OPERATION_NAME_SERIES names keep their
 * own series, later ones share `other`. Operations an application sends are few and arrive early.
 */
export class OperationNameLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly maxSeries = MAX_OPERATION_NAME_SERIES) {}

  label(name: string | undefined): string {
    if (name === undefined) return 'none';
    if (FIXED_LABELS.has(name) || this.seen.has(name)) return name;
    if (name.length > MAX_OPERATION_NAME_LENGTH || this.seen.size >= this.maxSeries) return OTHER_OPERATIONS;
    this.seen.add(name);
    return name;
  }
}
