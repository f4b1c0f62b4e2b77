// Real kubectl against the apiserver simulator, and the `kube-zk-sync simulate` command end to end.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ApiServerSimulator, generateServices, type Service } from '../../../lib/local/apiserver/index.ts';

import { eventually } from '../../support/cli.ts';
import { kubectlArgs as kubectlArgsIn, kubectlBin, kubectl as runKubectl } from '../../support/kubectl.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-sim-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kubectlArgs = (kubeconfig: string, args: string[]): string[] => kubectlArgsIn(kubeconfig, dir, args);
const kubectl = (kubeconfig: string, ...args: string[]): Promise<string> =>
  runKubectl(kubeconfig, dir, ...args);

type Listed = { items: Service[] };

describe('kubectl', () => {
  let sim: ApiServerSimulator;
  let kubeconfig: string;

  beforeEach(async () => {
    sim = new ApiServerSimulator();
    for (const s of generateServices(6, { seed: 2 })) sim.createService(s);
    await sim.start();
    kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
  });

  afterEach(async () => {
    await sim.stop();
  });

  const names = (services: readonly Service[]) =>
    services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`);

  test('get services -A -o json lists every Service', async () => {
    const listed = JSON.parse(await kubectl(kubeconfig, 'get', 'services', '-A', '-o', 'json')) as Listed;
    expect(names(listed.items)).toEqual(names(sim.listServices()));
    expect(listed.items[0]).toMatchObject({ kind: 'Service', apiVersion: 'v1' });
    expect(sim.stats().requests.discovery).toBeGreaterThan(0);
  });

  test('--chunk-size=2 pages through continue tokens and gets the same list', async () => {
    const listed = JSON.parse(
      await kubectl(kubeconfig, 'get', 'services', '-A', '--chunk-size=2', '-o', 'json'),
    ) as Listed;
    expect(names(listed.items)).toEqual(names(sim.listServices()));
    const lists = sim.stats().recent.filter((r) => r.kind === 'list');
    expect(lists.length).toBe(Math.ceil(sim.listServices().length / 2));
    expect(lists.slice(1).every((r) => /[?&]continue=/.test(r.url) && /[?&]limit=2/.test(r.url))).toBe(true);
  });

  test('get one Service by name, and the default table view falls back to names', async () => {
    const [first] = sim.listServices() as [Service];
    const one = JSON.parse(
      await kubectl(
        kubeconfig,
        'get',
        'service',
        '-n',
        first.metadata.namespace,
        first.metadata.name,
        '-o',
        'json',
      ),
    ) as Service;
    expect(one.metadata.uid).toBe(first.metadata.uid);
    const table = await kubectl(kubeconfig, 'get', 'services', '-A');
    for (const s of sim.listServices()) expect(table).toContain(s.metadata.name);
  });

  test('get services -A --watch -o json sees a change made after it started', async () => {
    const child = spawn(
      kubectlBin(),
      kubectlArgs(kubeconfig, ['get', 'services', '-A', '--watch', '-o', 'json']),
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    try {
      await eventually(`kubectl to open its watch (stderr: ${stderr})`, () => sim.stats().openWatches === 1);
      sim.createService({
        namespace: 'payments',
        name: 'late-arrival',
        type: 'LoadBalancer',
        ports: [{ port: 80 }],
      });
      await eventually('kubectl to print the new Service', () => stdout.includes('"name": "late-arrival"'));
      const watchRequest = sim.stats().recent.find((r) => r.kind === 'watch');
      expect(watchRequest?.url).toMatch(/resourceVersion=\d+/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(command: string, args: string[]): Running {
  // Its own process group, so a signal can reach npx and the node process behind it, as Ctrl-C does.
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for the one line the command prints once it serves, and returns the URL from it. */
async function serving(app: Running): Promise<string> {
  await eventually(
    `simulate to start (stderr: ${app.stderr()})`,
    () => / at (http:\/\/\S+?)[,;]/.test(app.stdout()),
    30_000,
  );
  return (/ at (http:\/\/\S+?)[,;]/.exec(app.stdout()) as RegExpExecArray)[1] as string;
}

function killGroup(app: Running, signal: NodeJS.Signals): void {
  if (app.child.pid !== undefined && app.child.exitCode === null && app.child.signalCode === null) {
    process.kill(-app.child.pid, signal);
  }
}

const mainTs = join(repoRoot, 'lib/cli/main.ts');

describe('kube-zk-sync simulate', () => {
  test('npx: serves N published load balancers to kubectl and shuts down on Ctrl-C', async () => {
    const kubeconfig = join(dir, 'sim.kubeconfig');
    const app = launch('npx', [
      'kube-zk-sync',
      'simulate',
      '--port',
      '0',
      '--services',
      '12',
      '--seed',
      '7',
      '--lb-delay',
      '0.2',
      '--kubeconfig-out',
      kubeconfig,
    ]);
    try {
      const url = await serving(app);
      expect(app.stdout()).toContain(`kubectl --kubeconfig ${kubeconfig} get services -A`);
      const listed = JSON.parse(await kubectl(kubeconfig, 'get', 'services', '-A', '-o', 'json')) as Listed;
      const published = listed.items.filter(
        (s) => s.spec.type === 'LoadBalancer' && s.status.loadBalancer.ingress?.length,
      );
      expect(published).toHaveLength(12);
      // A load balancer made with kubectl is pending until the cloud controller gives it an address.
      const manifest = join(dir, 'lb.json');
      await writeFile(
        manifest,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'shop', namespace: 'default' },
          spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
        }),
      );
      await kubectl(kubeconfig, 'create', '-f', manifest, '--validate=false');
      await eventually('the address', async () => {
        const shop = JSON.parse(await kubectl(kubeconfig, 'get', 'svc', 'shop', '-o', 'json')) as Service;
        return (
          shop.status.loadBalancer.ingress?.[0]?.hostname?.endsWith('.elb.us-east-1.amazonaws.com') ?? false
        );
      });
      killGroup(app, 'SIGINT');
      await app.exited;
      expect(app.stderr()).toContain('kube-zk-sync simulate: stopped');
      expect(await fetch(`${url}/version`).catch((e: unknown) => e)).toBeInstanceOf(Error);
    } finally {
      killGroup(app, 'SIGKILL');
    }
  });

  test.each(['SIGINT', 'SIGTERM'] as const)('exits 0 on %s while churning', async (signal) => {
    const kubeconfig = join(dir, 'churn.kubeconfig');
    const app = launch(process.execPath, [
      mainTs,
      'simulate',
      '--port',
      '0',
      '--services',
      '5',
      '--churn',
      '100',
      '--kubeconfig-out',
      kubeconfig,
    ]);
    try {
      const url = await serving(app);
      const resourceVersion = async () =>
        Number(
          (
            (await (await fetch(`${url}/api/v1/services`)).json()) as {
              metadata: { resourceVersion: string };
            }
          ).metadata.resourceVersion,
        );
      const first = await resourceVersion();
      await eventually('the churn to change Services', async () => (await resourceVersion()) > first + 5);
      app.child.kill(signal);
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.stderr()).toMatch(/churn done: \d+ created, \d+ updated, \d+ deleted\n.*stopped\n$/);
    } finally {
      killGroup(app, 'SIGKILL');
    }
  });

  test('bad options end in one line on stderr and a non-zero exit', async () => {
    const busy = new ApiServerSimulator();
    const busyPort = new URL(await busy.start()).port;
    try {
      const out = join(dir, 'k');
      const cases: [string[], RegExp][] = [
        [['--port', 'abc', '--services', '1', '--kubeconfig-out', out], /--port must be a whole number/],
        [['--port', '70000', '--services', '1', '--kubeconfig-out', out], /--port must be a whole number/],
        [['--port', '0', '--services', 'many', '--kubeconfig-out', out], /--services must be a whole number/],
        [
          ['--port', '0', '--services', '1', '--churn', '0', '--kubeconfig-out', out],
          /--churn must be a number greater than 0/,
        ],
        [
          ['--port', '0', '--services', '1', '--churn-for', '5', '--kubeconfig-out', out],
          /--churn-for needs --churn/,
        ],
        [
          ['--port', '0', '--services', '1', '--lb-delay', '-1', '--kubeconfig-out', out],
          /--lb-delay must be a number of seconds from 0 to 3600/,
        ],
        [
          ['--port', busyPort, '--services', '1', '--kubeconfig-out', out],
          new RegExp(`port ${busyPort} .* is in use`),
        ],
        [
          ['--port', '0', '--services', '1', '--kubeconfig-out', join(dir, 'no/such/dir/k')],
          /cannot write the kubeconfig/,
        ],
      ];
      // A missing option is commander's usage error: the same first line, then the command's help.
      const usage: [string[], RegExp] = [
        ['--port', '0', '--services', '1'],
        /required option '--kubeconfig-out <file>'/,
      ];
      await Promise.all(
        [...cases, usage].map(async ([args, message]) => {
          const result = await run(process.execPath, [mainTs, 'simulate', ...args], { timeout: 30_000 }).then(
            () => ({ code: 0, stderr: '' }),
            (e: { code: number; stderr: string }) => e,
          );
          expect(result.code, args.join(' ')).not.toBe(0);
          const lines = result.stderr.trim().split('\n');
          expect(lines[0]).toMatch(message);
          if (args !== usage[0]) expect(lines, result.stderr).toHaveLength(1);
        }),
      );
    } finally {
      await busy.stop();
    }
  });
});
