import { userInfo } from 'node:os';

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
