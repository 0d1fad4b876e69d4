import { getOperationAST, type DocumentNode } from 'graphql';
import { BoundedLabels } from './boundedLabels';

/** Longest operation name a metric label or a log line carries; longer names are cut (logs) or `other` (labels). */
export const MAX_OPERATION_NAME_LENGTH = 64;

/** Distinct operation-name label values a gateway keeps; names beyond them count as `other`. */
export const MAX_OPERATION_NAME_SERIES = 200;

/** The name of an operation that did not run, or that the document does not hold. */
export const INVALID_OPERATION = 'invalid';

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
 * The operation-name label values of one registry: the first MAX_OPERATION_NAME_SERIES names keep
 * their own series, later ones share `other`. Operations an application sends are few and arrive early.
 */
export function operationNameLabels(): BoundedLabels {
  return new BoundedLabels({
    fixed: ['Anonymous', INVALID_OPERATION],
    maxSeries: MAX_OPERATION_NAME_SERIES,
    maxLength: MAX_OPERATION_NAME_LENGTH,
  });
}
