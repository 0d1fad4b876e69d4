import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { kill as killChild, tracked } from './childProcesses';

/** The shared Redis the tests may use concurrently; never stop it, never touch keys outside your prefix. */
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of this run alone, e.g. `test-rl-4242-1a2b3c4d:`. */
export function uniqueKeyPrefix(label = 'test'): string {
  return `${label}-${process.pid}-${randomBytes(4).toString('hex')}:`;
}

export { deleteKeysWithPrefix, keysWithPrefix } from '../../scripts/redisKeys';

/**
 * Private servers get ports below the kernel's ephemeral range (32768 and up). A port from that range
 * is handed out again while the test's Redis is down, to another listener on port 0 or as the source
 * port of the gateway's own reconnect (a TCP self-connect), and either looks to ioredis like Redis
 * coming back in the middle of an outage.
 */
const PRIVATE_PORTS = { from: 20_000, to: 32_000 } as const;

function randomPrivatePort(): number {
  return PRIVATE_PORTS.from + Math.floor(Math.random() * (PRIVATE_PORTS.to - PRIVATE_PORTS.from));
}

/** A redis-server of the test's own, which it may stop and restart at will. */
export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (and, with `appendOnly`, the same data). */
  restart(): Promise<void>;
  /** A fresh client of its own (for MONITOR and inspection). */
  client(): Redis;
  stop(): Promise<void>;
}

async function waitForPing(url: string, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    // disconnectTimeout: after a refused connect, ioredis would otherwise keep a 2 s timer that holds jest open.
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, disconnectTimeout: 50 });
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Spawns redis-server and resolves once it answers PING, or rejects if it exits first (its port taken, say). */
async function spawnRedis(binary: string, args: string[], url: string): Promise<ChildProcess> {
  const child = tracked(spawn(binary, args, { stdio: 'ignore' }));
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${signal ?? code}) before answering`)));
  });
  exited.catch(() => {}); // only awaited in the race below
  await Promise.race([waitForPing(url), exited]);
  return child;
}

/**
 * Starts `redis-server` on a free port. The server itself claims the port (a probe-then-listen would
 * race other jest workers); if another process holds it, it tries another. `appendOnly` keeps its
 * data on disk (fsync on every write), so a kill and restart brings back what was cached, as a Redis
 * that was merely unreachable would.
 */
export async function startPrivateRedis(options: { appendOnly?: boolean } = {}): Promise<PrivateRedis> {
  const binary = execFileSync('which', ['redis-server']).toString().trim();
  const dir = mkdtempSync(join(tmpdir(), 'cache-redis-'));
  const argsFor = (port: number) => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  const urlOf = (port: number) => `redis://127.0.0.1:${port}`;
  let port = randomPrivatePort();
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  for (let attempt = 1; !child; attempt++) {
    try {
      child = await spawnRedis(binary, argsFor(port), urlOf(port));
    } catch (error) {
      if (attempt === 5) throw error;
      port = randomPrivatePort();
    }
  }
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running) await killChild(running);
  };
  const url = urlOf(port);
  return {
    url,
    port,
    kill,
    restart: async () => {
      child = await spawnRedis(binary, argsFor(port), url);
    },
    client: () => {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const client of clients) client.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
