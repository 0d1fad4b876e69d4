import type { Logger } from '../logging/logger';
import type { Change } from './types';

/**
 * Who made a change: a staff identity through the graph (its JWT `sub` or API key name, which an
 * audit trail must name, unlike request logs), or the import command (the operating-system user).
 */
export interface Actor {
  subject: string;
  via: string;
}

export interface AuditEntry<T> {
  by: Actor;
  /** The mutation or command, e.g. `upsertContract`. */
  action: string;
  entity: 'Customer' | 'Tariff' | 'Contract';
  change: Change<T>;
}

/** Records a change of the provider's pricing data; a write that changed nothing is not recorded. */
export type AuditLog = <T extends { id: string }>(entry: AuditEntry<T>) => void;

/** One structured `audit` log line per change: who, what, before → after (before null: created). */
export function createAuditLog(logger: Logger): AuditLog {
  return ({ by, action, entity, change }) => {
    if (change.before === change.after) return;
    logger.info({ audit: { by, action, entity, id: change.after.id, before: change.before, after: change.after } }, `audit: ${action} ${entity} ${change.after.id}`);
  };
}
