import type { Context } from 'koa';
import type { AuditEvent, AuditEventName, AuditWriter } from '../storage/audit_log.ts';
import type { Account } from '../storage/accounts.ts';
import type { InteractionDetails } from './interaction.ts';

type Detail = AuditEvent['detail'];

/** What the login code tells apart, for the audit log only: the person reads one message for all. */
export type PasswordFailure = 'unknown_user' | 'not_a_local_account' | 'wrong_password' | 'account_disabled';

export function passwordFailure(account: Account | undefined, passwordValid: boolean): PasswordFailure {
  if (!account) return 'unknown_user';
  if (account.source !== 'local') return 'not_a_local_account';
  return passwordValid ? 'account_disabled' : 'wrong_password';
}

/** The code only (INVALID_TICKET): CAS's description quotes the ticket, and anything but capitals and underscores is not copied. */
export function casErrorCode(code: string): string {
  return /^[A-Z_]{1,64}$/.test(code) ? code : 'OTHER';
}

/** The audit events of one request to the sign-in and consent pages. */
export interface InteractionAudit {
  /** A sign-in refused: no one is signed in, so the actor is anonymous; the account, if the name was one. */
  refused(event: AuditEventName, account: Pick<Account, 'id' | 'username'> | undefined, detail: Detail): void;
  /** The person's own act. */
  byPerson(event: AuditEventName, account: { id: string; username?: string | undefined }, detail: Detail): void;
}

/**
 * Every event carries the client of the interaction and the person's address (koa's, TRUST_PROXY
 * applied, as the login limits see it). A username is recorded only when it names an account: what
 * someone typed into the field may be their password.
 */
export function interactionAudit(audit: AuditWriter, ctx: Context, details: InteractionDetails): InteractionAudit {
  const where = { clientId: String(details.params.client_id), ip: ctx.ip };
  return {
    refused: (event, account, detail) => audit.record({ ...where, event, actor: 'anonymous', accountId: account?.id, username: account?.username, detail }),
    byPerson: (event, account, detail) => audit.record({ ...where, event, actor: `account:${account.id}`, accountId: account.id, username: account.username, detail }),
  };
}
