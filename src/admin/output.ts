/** What a command returns: a JSON document for `--json`, and the lines a person reads otherwise. */
export interface CommandResult {
  json: unknown;
  text: string;
}

/** A mistake in how the command was called or what it asked for: printed as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A failure that is not the operator's mistake, as one line. knex puts the whole statement
 * (several lines, bindings as $n) before the database's own message: only that message is
 * kept, with its SQLSTATE, which is what an operator can look up.
 */
export function failureMessage(error: unknown): string {
  const { message, code, severity } = error as { message?: string; code?: string; severity?: string };
  const text = severity && code && message?.includes(' - ') ? `${message.slice(message.lastIndexOf(' - ') + 3)} (SQLSTATE ${code})` : String(message ?? error);
  return text.replace(/\s+/g, ' ').trim();
}
