import { ClientSpecError } from './client_fields.ts';
import type { ClientKind, ClientMetadata, Organizations } from './client_kinds.ts';

/**
 * What an initial access token lets a registration ask for (`gatehouse registration-token
 * create`). A registered client stays linked to it: an RFC 7592 update is held to the same.
 * Everything that widens what a client may reach (a scope, the restricted flag, skipping
 * consent, an organization) must be named by the token; nothing is allowed by default.
 */
export interface RegistrationAllowance {
  kinds: ClientKind[];
  /** Every scope a registration may list; enterprise scopes, the login scope and auth-none only if here. */
  scopes: string[];
  restricted: boolean;
  consentSkip: boolean;
  /** The organization filters a registration may set, exactly as here. */
  organizations: Organizations;
}

const BY_TOKEN = 'by this initial access token';

/** Refuses, naming the field, what the client's metadata asks for beyond the allowance. */
export function checkAllowance(metadata: ClientMetadata, allowance: RegistrationAllowance): void {
  if (!allowance.kinds.includes(metadata.kind)) {
    throw new ClientSpecError('kind', (field) => `${field} ${metadata.kind} is not allowed ${BY_TOKEN} (it allows ${allowance.kinds.join(', ')})`);
  }
  const beyond = metadata.allowed_scopes.split(' ').filter((scope) => scope && !allowance.scopes.includes(scope));
  if (beyond.length) {
    throw new ClientSpecError('scopes', () => `${beyond.join(' ')} not allowed ${BY_TOKEN} (it allows ${allowance.scopes.join(' ') || 'no scope'})`);
  }
  if (metadata.restricted && !allowance.restricted) {
    throw new ClientSpecError('restricted', () => `a restricted client is not allowed ${BY_TOKEN}`);
  }
  if (metadata.consent === 'skip' && !allowance.consentSkip) {
    throw new ClientSpecError('consent', () => `skip is not allowed ${BY_TOKEN}: the person is asked (prompt)`);
  }
  for (const [filter, org] of Object.entries(metadata.organizations)) {
    if (allowance.organizations[filter as keyof Organizations] !== org) {
      throw new ClientSpecError('organizations', () => `${filter}=${org} is not allowed ${BY_TOKEN}`);
    }
  }
}
