import { userInfo } from 'node:os';
import type { Knex } from 'knex';
import { recordAudit, type AuditEvent } from '../storage/audit_log.ts';

/**
 * Who runs the CLI, as the audit log names them: the operating-system account, which the
 * machine's own login and sudo records tie to a person. An account with no name in the
 * password database (a container's arbitrary uid) is named by its uid.
 */
export function operatorActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

/** Records what the operator did, in the transaction that did it: both commit or neither does. */
export function auditOperator(trx: Knex.Transaction, ...events: Omit<AuditEvent, 'actor'>[]): Promise<void> {
  const actor = operatorActor();
  return recordAudit(trx, ...events.map((event) => ({ ...event, actor })));
}
