import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { HostPort } from '../../src/config.ts';
import { freePort } from './listen.ts';
import { pollUntil } from './poll.ts';

const run = promisify(execFile);

/** A redis-server the test started on loopback, in its own directory, with nothing persisted. */
export interface RedisNode extends HostPort {
  child: ChildProcess;
  /** A plain connection to this node alone (no cluster routing), for looking inside. */
  client: Redis;
  /** SIGKILLs the node, as a crash would. */
  kill(): Promise<void>;
}

/**
 * A redis-server with these arguments. With a password, as production's are: it asks clients
 * and its master for it (given on stdin, so it stays off the command line).
 */
async function startNode(dir: string, args: string[], password?: string): Promise<RedisNode> {
  const port = await freePort();
  const config = password ? ['-'] : [];
  const child = spawn('redis-server', [...config, ...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', join(dir, `${port}.log`)], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin!.end(password ? `requirepass ${password}\nmasterauth ${password}\n` : '');
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100, connectTimeout: 1000 });
  client.on('error', () => {});
  const answered = await pollUntil(() => client.ping().then(() => true, () => false), Boolean, 10_000, 50);
  if (!answered) throw new Error(`redis-server on port ${port} did not start (see ${dir})`);
  const kill = async () => {
    client.disconnect();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  };
  return { host: '127.0.0.1', port, child, client, kill };
}

/** A temporary directory for some nodes, and how to kill them all and remove it. */
async function nodeGroup(kind: string): Promise<{ dir: string; nodes: RedisNode[]; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `gatehouse-${kind}-`));
  const nodes: RedisNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, nodes, stop };
}

/** A password for one topology's nodes. */
function newPassword(): string {
  return randomBytes(16).toString('hex');
}

/** One redis-server of its own, no password: for a test that reconfigures it (CONFIG SET). */
export async function startRedisServer(): Promise<{ node: RedisNode; url: string; stop(): Promise<void> }> {
  const { dir, nodes, stop } = await nodeGroup('server');
  try {
    nodes.push(await startNode(dir, []));
  } catch (error) {
    await stop();
    throw error;
  }
  return { node: nodes[0]!, url: `redis://127.0.0.1:${nodes[0]!.port}`, stop };
}

export interface RedisCluster {
  /** The masters, each owning a third of the hash slots. */
  masters: RedisNode[];
  /** For REDIS_CLUSTER_NODES. */
  seeds: string;
  /** For REDIS_URL beside it: the nodes' password (and the first master, one more seed). */
  url: string;
  stop(): Promise<void>;
}

/** A Redis Cluster of `size` masters and no replicas on loopback, with a password, ready (every slot served). */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const { dir, nodes: masters, stop } = await nodeGroup('cluster');
  const password = newPassword();
  try {
    for (let i = 0; i < size; i++) {
      const nodeDir = join(dir, String(i));
      await mkdir(nodeDir);
      // The bus port is given too: port + 10000, the default, may be past 65535.
      // A node silent for a second is failed (the default, 15 s, would outlast a test).
      masters.push(await startNode(nodeDir, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(await freePort()), '--cluster-node-timeout', '1000'], password));
    }
    await run('redis-cli', ['--cluster', 'create', ...masters.map((node) => `${node.host}:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      env: { ...process.env, REDISCLI_AUTH: password },
    });
    const states = await pollUntil(
      () => Promise.all(masters.map((node) => node.client.cluster('INFO') as Promise<string>)),
      (infos) => infos.every((info) => info.includes('cluster_state:ok')),
      15_000,
      100,
    );
    if (!states.every((info) => info.includes('cluster_state:ok'))) throw new Error(`the cluster did not become ready:\n${states.join('\n')}`);
  } catch (error) {
    await stop();
    throw error;
  }
  const [first] = masters;
  return { masters, seeds: masters.map((node) => `${node.host}:${node.port}`).join(','), url: `redis://:${password}@${first!.host}:${first!.port}`, stop };
}

export interface RedisSentinels {
  /** The master and the replica as started (after a failover, the replica is the master). */
  master: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  /** For REDIS_SENTINELS. */
  addresses: string;
  /** For REDIS_URL beside it: the master's password (its host is not used). */
  url: string;
  masterName: string;
  /** The address the sentinels give for the master now. */
  currentMaster(): Promise<HostPort | undefined>;
  /** SIGKILLs the master, then waits until the sentinels name the replica as master and it says so itself. */
  crashMaster(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One master and one replica with a password, and three sentinels (quorum 2, no password of
 * their own) on loopback, the sentinels agreeing on both data nodes before this returns.
 */
export async function startRedisSentinels(masterName = 'mymaster'): Promise<RedisSentinels> {
  const { dir, nodes, stop } = await nodeGroup('sentinel');
  const password = newPassword();
  try {
    const master = await startNode(dir, [], password);
    nodes.push(master);
    const replica = await startNode(dir, ['--replicaof', master.host, String(master.port)], password);
    nodes.push(replica);
    const sentinels: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      // A sentinel rewrites its configuration file, so each has its own.
      const config = join(dir, `sentinel-${i}.conf`);
      await writeFile(config, [
        `sentinel monitor ${masterName} ${master.host} ${master.port} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel auth-pass ${masterName} ${password}`,
        '',
      ].join('\n'));
      const sentinel = await startNode(dir, [config, '--sentinel']);
      nodes.push(sentinel);
      sentinels.push(sentinel);
    }
    const ask = (command: string[]) => sentinels[0]!.client.call('SENTINEL', ...command);
    const currentMaster = async () => {
      const address = (await ask(['get-master-addr-by-name', masterName])) as [string, string] | null;
      return address ? { host: address[0], port: Number(address[1]) } : undefined;
    };
    // Ready once every sentinel knows the replica (in sync) and the other sentinels.
    const ready = await pollUntil(async () => {
      const views = await Promise.all(sentinels.map(async (sentinel) => {
        const replicas = (await sentinel.client.call('SENTINEL', 'replicas', masterName)) as string[][];
        const peers = (await sentinel.client.call('SENTINEL', 'sentinels', masterName)) as string[][];
        return replicas.length === 1 && replicaUp(replicas[0]!) && peers.length === 2;
      }));
      return views.every(Boolean);
    }, Boolean, 20_000, 100);
    if (!ready) throw new Error('the sentinels did not discover the replica and each other');
    const promotion = async () => {
      const promoted = await pollUntil(async () => {
        const now = await currentMaster();
        const role = await replica.client.role().catch(() => []);
        return now?.port === replica.port && role[0] === 'master';
      }, Boolean, 20_000, 100);
      if (!promoted) throw new Error('the failover did not complete');
    };
    const crashMaster = async () => {
      await master.kill();
      await promotion();
    };
    return { master, replica, sentinels, addresses: sentinels.map((node) => `${node.host}:${node.port}`).join(','), url: `redis://:${password}@${masterName}`, masterName, currentMaster, crashMaster, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A SENTINEL replicas entry (flat field/value list) of a replica up and in sync. */
function replicaUp(fields: string[]): boolean {
  const field = (name: string) => fields[fields.indexOf(name) + 1];
  return field('flags') === 'slave' && field('master-link-status') === 'ok';
}
