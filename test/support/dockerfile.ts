import { execFile } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { basename, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';

/** One `FROM` stage of a Dockerfile, as far as the image's files, user and commands go. */
export interface Stage {
  name: string | undefined;
  workdir: string;
  env: Record<string, string>;
  copies: { from: string | undefined; sources: string[]; dest: string }[];
  runs: string[];
  user: string | undefined;
  /** The HEALTHCHECK's command, shell form (what Docker runs with /bin/sh -c). */
  healthcheck: string | undefined;
  /** CMD in exec form. */
  cmd: string[] | undefined;
}

/**
 * Reads the instructions that decide what an image holds and runs. Anything it does not know
 * stops it, so a Dockerfile that outgrows the replay fails its test instead of drifting from it.
 */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const line of lines) {
    const [, instruction = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line)!;
    const stage = stages.at(-1);
    if (instruction === 'FROM') {
      const name = /\bAS\s+(\S+)$/i.exec(rest)?.[1];
      stages.push({ name, workdir: '/', env: {}, copies: [], runs: [], user: undefined, healthcheck: undefined, cmd: undefined });
      continue;
    }
    if (!stage) throw new Error(`Dockerfile: ${instruction} before FROM`);
    switch (instruction) {
      case 'WORKDIR': stage.workdir = posix.resolve(stage.workdir, rest); break;
      case 'ENV': {
        const [, key = '', value = ''] = /^(\w+)=(\S*)$/.exec(rest) ?? [];
        if (!key) throw new Error(`Dockerfile: only ENV KEY=value is replayed: ${line}`);
        stage.env[key] = value;
        break;
      }
      case 'COPY': {
        const words = rest.split(/\s+/);
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        if (words.some((word) => word.startsWith('--'))) throw new Error(`Dockerfile: COPY options other than --from are not replayed: ${line}`);
        stage.copies.push({ from, sources: words.slice(0, -1), dest: words.at(-1)! });
        break;
      }
      case 'RUN': stage.runs.push(rest); break;
      case 'USER': stage.user = rest; break;
      case 'HEALTHCHECK': stage.healthcheck = /\bCMD\s+(.*)$/.exec(rest)?.[1]; break;
      case 'CMD': stage.cmd = JSON.parse(rest) as string[]; break;
      case 'VOLUME': case 'EXPOSE': break;
      default: throw new Error(`Dockerfile: ${instruction} is not replayed by test/support/dockerfile.ts`);
    }
  }
  return stages;
}

export interface Replay {
  /** The final stage's WORKDIR, as a directory here. */
  appDir: string;
  final: Stage;
}

/**
 * Builds the image's files without a container engine: each stage gets a directory of `root`
 * standing in for its WORKDIR, COPY takes from `context` (minus .dockerignore's top-level names)
 * or from an earlier stage, and the RUN steps of every stage but the last run there with
 * /bin/sh. The last stage's RUN steps change the image's own system (users, owners): the caller
 * reads them from `final.runs` and does their equivalent.
 */
export async function replayDockerfile(context: string, root: string, runEnv: Record<string, string>): Promise<Replay> {
  const stages = parseDockerfile(await readFile(join(context, 'Dockerfile'), 'utf8'));
  const ignored = new Set((await readFile(join(context, '.dockerignore'), 'utf8').catch(() => '')).split('\n').map((entry) => entry.trim()).filter(Boolean));
  const dirs = stages.map((_, index) => join(root, `stage-${index}`));
  const inStage = (index: number, path: string) => {
    const inside = posix.relative(stages[index]!.workdir, posix.resolve(stages[index]!.workdir, path));
    if (inside.startsWith('..')) throw new Error(`Dockerfile: ${path} is outside WORKDIR ${stages[index]!.workdir}`);
    return join(dirs[index]!, inside);
  };
  for (const [index, stage] of stages.entries()) {
    await mkdir(dirs[index]!, { recursive: true });
    for (const copy of stage.copies) {
      const fromIndex = copy.from === undefined ? -1 : stages.findIndex((other) => other.name === copy.from);
      if (copy.from !== undefined && fromIndex < 0) throw new Error(`Dockerfile: COPY --from=${copy.from}: no such stage`);
      const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
      for (const source of copy.sources) {
        const from = fromIndex < 0 ? join(context, source) : inStage(fromIndex, source);
        const to = intoDir ? join(inStage(index, copy.dest), basename(source)) : inStage(index, copy.dest);
        await cp(from, to, { recursive: true, filter: (path) => fromIndex >= 0 || !ignored.has(relative(context, path).split('/')[0]!) });
      }
    }
    if (index === stages.length - 1) break;
    for (const command of stage.runs) {
      await promisify(execFile)('/bin/sh', ['-c', command], { cwd: dirs[index], env: { ...runEnv, ...stage.env } });
    }
  }
  return { appDir: dirs.at(-1)!, final: stages.at(-1)! };
}
