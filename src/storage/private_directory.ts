import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const GROUP_AND_OTHERS = 0o077;

/**
 * Takes every permission of group and others off a directory and everything in it (symbolic
 * links aside: chmod would follow them out). PGlite unpacks its initial cluster as 0666 files
 * whatever the umask, and directories made before this existed kept 0755: the embedded
 * database holds the signing keys and the accounts.
 */
export async function makePrivate(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = [dir, ...entries.filter((entry) => !entry.isSymbolicLink()).map((entry) => join(entry.parentPath, entry.name))];
  await Promise.all(paths.map(async (path) => {
    const { mode } = await lstat(path);
    if (mode & GROUP_AND_OTHERS) await chmod(path, mode & 0o7777 & ~GROUP_AND_OTHERS);
  }));
}
