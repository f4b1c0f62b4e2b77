// Real Apache ZooKeeper servers for tests, benchmarks and `kube-zk-sync dev`: one node or an ensemble on free
// loopback ports with throwaway data directories. No mocks: the server is the jar that Debian's `zookeeper` ships.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_JAR = '/usr/share/java/zookeeper.jar';

export const ZOOKEEPER_MISSING =
  'ZooKeeper is not installed: install it with `apt-get install -y zookeeper` (Debian; it brings Java and ' +
  '/usr/share/java/zookeeper.jar), set ZK_JAR to a server jar, or set ZK_CONNECT=host:port to use a running server.';

export function zookeeperJar(): string {
  const jar = process.env.ZK_JAR ?? DEFAULT_JAR;
  if (!existsSync(jar)) throw new Error(ZOOKEEPER_MISSING);
  return jar;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Sends a four-letter command (`ruok`, `srvr`, …) and returns the answer, or '' when the node does not answer. */
export async function fourLetter(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, done);
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', done);
    socket.on('error', done);
  });
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`local ZooKeeper: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Node {
  id: number;
  clientPort: number;
  dir: string;
  process?: ChildProcess;
}

export interface ZooKeeperOptions {
  /** Number of servers: 1 for a standalone server, 3 for an ensemble that survives the loss of one node. */
  nodes?: number;
  tickTimeMs?: number;
}

/** A running ZooKeeper (one node or an ensemble). Every node can be stopped, killed and started again. */
export class ZooKeeperCluster {
  readonly connectString: string;
  private readonly nodes: Node[];
  private readonly root: string;
  private readonly jar: string;

  private constructor(root: string, nodes: Node[], jar: string) {
    this.root = root;
    this.nodes = nodes;
    this.jar = jar;
    this.connectString = nodes.map((n) => `127.0.0.1:${n.clientPort}`).join(',');
  }

  static async start(options: ZooKeeperOptions = {}): Promise<ZooKeeperCluster> {
    const jar = zookeeperJar();
    const count = options.nodes ?? 1;
    const tick = options.tickTimeMs ?? 500;
    const root = await mkdtemp(join(tmpdir(), 'kube-zk-sync-zk-'));
    const ports = await Promise.all(Array.from({ length: count * 3 }, () => freePort()));
    const nodes: Node[] = Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      clientPort: ports[i * 3] as number,
      dir: join(root, `node${i + 1}`),
    }));
    const servers = nodes.map((n, i) => `server.${n.id}=127.0.0.1:${ports[i * 3 + 1]}:${ports[i * 3 + 2]}`);
    for (const node of nodes) {
      await mkdir(join(node.dir, 'data'), { recursive: true });
      await writeFile(join(node.dir, 'data', 'myid'), `${node.id}\n`);
      const config = [
        `tickTime=${tick}`,
        'initLimit=20',
        'syncLimit=10',
        `dataDir=${join(node.dir, 'data')}`,
        `clientPort=${node.clientPort}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        '4lw.commands.whitelist=*',
        `minSessionTimeout=${tick * 2}`,
        'maxSessionTimeout=60000',
        'maxClientCnxns=0',
        ...(count > 1 ? servers : []),
      ];
      await writeFile(join(node.dir, 'zoo.cfg'), `${config.join('\n')}\n`);
    }
    const cluster = new ZooKeeperCluster(root, nodes, jar);
    await Promise.all(nodes.map((n) => cluster.startNode(n.id)));
    await cluster.waitServing();
    return cluster;
  }

  get size(): number {
    return this.nodes.length;
  }

  private node(id: number): Node {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no ZooKeeper node ${id}`);
    return node;
  }

  /** Starts (or restarts) one node; resolves once its process runs, not when it serves. */
  async startNode(id: number): Promise<void> {
    const node = this.node(id);
    if (node.process && node.process.exitCode === null) return;
    const log = openSync(join(node.dir, 'server.log'), 'a');
    const child = spawn(
      'java',
      [
        '-Xms32m',
        '-Xmx1g',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dzookeeper.jmx.log4j.disable=true',
        '-cp',
        this.jar,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        join(node.dir, 'zoo.cfg'),
      ],
      // The server's own log, next to its data, for when a test wants to know why a node went away.
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    child.on('error', () => {});
    node.process = child;
  }

  /** Stops one node: SIGKILL when `hard`, as a crashed server; SIGTERM otherwise. */
  async stopNode(id: number, hard = false): Promise<void> {
    const node = this.node(id);
    const child = node.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
    node.process = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stopNode(n.id, true)));
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.startNode(n.id)));
    await this.waitServing();
  }

  /** The id of the current leader (the only node, for a standalone server), or undefined during an election. */
  async leader(): Promise<number | undefined> {
    for (const node of this.nodes) {
      if (!node.process) continue;
      const mode = /Mode: (\w+)/.exec(await fourLetter(node.clientPort, 'srvr'))?.[1];
      if (mode === 'leader' || mode === 'standalone') return node.id;
    }
    return undefined;
  }

  /** Waits until a quorum serves requests (a leader is elected and every running node answers). */
  async waitServing(timeoutMs = 30_000): Promise<void> {
    await until('a serving quorum', timeoutMs, async () => {
      const running = this.nodes.filter((n) => n.process);
      const modes = await Promise.all(running.map((n) => fourLetter(n.clientPort, 'srvr')));
      const serving = modes.filter((m) => /Mode: (leader|follower|standalone)/.test(m)).length;
      return (
        running.length > 0 &&
        serving === running.length &&
        modes.some((m) => /Mode: (leader|standalone)/.test(m))
      );
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
