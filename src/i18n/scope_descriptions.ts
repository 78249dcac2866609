import type { ScopeEntry } from '../policy/scope_catalogue.ts';
import type { Messages } from './messages.ts';

/**
 * What a person reads for a scope, in the page's language: a built-in scope's message; an
 * enterprise scope's description is the operator's own text (`gatehouse scopes define
 * --description`), shown as given in every language; a scope the catalogue does not know, by
 * its name.
 */
export function describeScope(name: string, entry: Pick<ScopeEntry, 'description' | 'message'> | undefined, messages: Messages): string {
  if (!entry) return name;
  return entry.message ? messages.t(entry.message) : entry.description;
}
