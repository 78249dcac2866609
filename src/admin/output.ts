/** What a command returns: a JSON document for `--json`, and the lines a person reads otherwise. */
export interface CommandResult {
  json: unknown;
  text: string;
}

/** A mistake in how the command was called or what it asked for: printed as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
