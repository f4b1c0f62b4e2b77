// Attacks on the znodes kube-zk-sync creates and on the text it shows, against the real pipeline (the apiserver
// simulator, forwarder, local EventBridge, queue, sync handler and reconcile) on a real ZooKeeper, deployed as it
// should be: the sync and reconcile write as their own digest identity. An anonymous ZooKeeper client (anyone on
// the network) tries to write the document and the sync state and to read the state; a tenant puts terminal
// escapes into a Service's description; a hand-written entry carries escape sequences to whoever lists the
// registry. Each attack must fail with its reason reported, and nothing of anyone else may change.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { ApiServerSimulator } from '../../lib/local/apiserver/index.ts';
import type { SyncBatchResult } from '../../lib/sync/batch.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { eventually, runCli } from '../support/cli.ts';
import { raw } from '../support/terminal.ts';
import { Outsider } from '../support/zk-outsider.ts';

const zk = inject('zkConnect');
const CLUSTER = 'prod';
const SYNC = { user: 'kube-zk-sync', password: 'adversarial-s3cret' };
const path = `/adversarial/${randomUUID()}/services`;
const statePath = syncStatePath(path, CLUSTER);

/** What a tenant writes into an annotation: clear the screen, recolour, the 8-bit CSI, a forged log line. */
const HOSTILE_DESCRIPTION = 'Payments\u001b[2J\u001b[31m\u009b1m\nkube-zk-sync: all entries verified';

let sim: ApiServerSimulator;
let pipeline: LocalPipeline;
let owner: Outsider;
let anonymous: Outsider;
let dir: string;
const syncProblems: string[] = [];

beforeAll(async () => {
  sim = new ApiServerSimulator({ bookmarkIntervalMs: 300 });
  sim.createService({
    namespace: 'shop',
    name: 'web',
    type: 'LoadBalancer',
    ports: [{ port: 443 }],
    ingress: [{ hostname: 'web.elb.example.com' }],
  });
  sim.createService({
    namespace: 'tenant-evil',
    name: 'phish',
    type: 'LoadBalancer',
    ports: [{ port: 443 }],
    ingress: [{ hostname: 'phish.elb.example.com' }],
    annotations: { 'kube-zk-sync.io/description': HOSTILE_DESCRIPTION },
  });
  await sim.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  pipeline = await LocalPipeline.start({
    kubeConfig,
    zkConnect: zk,
    registryPath: path,
    clusterId: CLUSTER,
    auth: SYNC,
    // As deployed: no open ACL, whatever the local default.
    env: { ZK_OPEN_ACL: 'false' },
    queue: { windowMs: 100 },
    onSyncReport: (r: SyncBatchResult) => {
      for (const p of r.problems) syncProblems.push(`${p.id}: ${p.problem}`);
    },
  });
  owner = await Outsider.connect(zk, `${SYNC.user}:${SYNC.password}`);
  anonymous = await Outsider.connect(zk);
  await eventually(
    'the first sync',
    async () => (await pipeline.registry.read()).document.entries.some((e) => e.name === 'web.shop'),
    30_000,
  );
  dir = await mkdtemp(join(tmpdir(), 'kzs-adversarial-'));
}, 60_000);

afterAll(async () => {
  anonymous?.close();
  owner?.close();
  await pipeline?.stop();
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The document and the state as their writer reads them. */
const snapshot = async () => ({ document: await owner.read(path), state: await owner.read(statePath) });

describe('an anonymous ZooKeeper client', () => {
  test('reads the document, and nothing else: every write, the state, a planted state and the ACLs are denied', async () => {
    const before = await snapshot();
    expect('ok' in before.state).toBe(true);

    const document = await anonymous.read(path);
    expect('ok' in document && JSON.parse(document.ok).map((e: { name: string }) => e.name)).toContain(
      'web.shop',
    );

    expect(await anonymous.read(statePath)).toEqual({ refused: 'NO_AUTH' });
    expect(
      await anonymous.write(path, '[{"name":"kafka","description":"","endpoints":["203.0.113.66:443"]}]'),
    ).toEqual({
      refused: 'NO_AUTH',
    });
    expect(await anonymous.write(statePath, '{"v":2}')).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.remove(statePath)).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.remove(path)).toEqual({ refused: 'NO_AUTH' });
    // A state for a cluster of its own beside the document, which `registry list` would read as a manager.
    expect(await anonymous.create(`${path}.kube-zk-sync.evil`, '{"v":2}')).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.openUp(path)).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.openUp(statePath)).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.openUp(posix.dirname(path))).toEqual({ refused: 'NO_AUTH' });

    expect(await snapshot()).toEqual(before);
  });
});

describe('a tenant with escape sequences in a Service description', () => {
  test('is refused by the sync and the reconcile, with the reason; nothing of it is published', async () => {
    const result = await pipeline.reconcileNow();
    const refusal = result.invalid.find((i) => i.key === 'tenant-evil/phish');
    expect(refusal?.error).toMatch(
      /the description ".*" contains control characters \(U\+001B, U\+009B, U\+000A\)/,
    );
    // The reason quotes the description escaped: a log or a terminal that shows it does not replay it.
    expect(raw(refusal?.error ?? '')).toEqual([]);
    await eventually('the sync to report it', () =>
      syncProblems.some(
        (p) => p.startsWith('tenant-evil/phish: ') && p.includes('contains control characters'),
      ),
    );
    const { document } = await pipeline.registry.read();
    expect(document.entries.map((e) => e.name)).toEqual(['web.shop']);
  });
});

describe('people with the CLI', () => {
  const env = { ZK_CONNECT: zk, REGISTRY_PATH: path };

  test('without an identity, register is refused with the reason, and the document stays as it is', async () => {
    const before = await snapshot();
    const r = await runCli(
      ['registry', 'register', '--name', 'kafka', '--endpoint', '203.0.113.66:443'],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ZooKeeper denies a client without an identity the sync state ${statePath}`);
    expect(await snapshot()).toEqual(before);
  });

  test('a hand-written entry with escape sequences is listed escaped; register refuses control characters', async () => {
    const current = await owner.read(path);
    const entries = JSON.parse('ok' in current ? current.ok : '[]');
    const handWritten = {
      name: 'billing',
      description: 'Billing\u001b]0;owned\u0007\u001b[8m\u202egnillib',
      endpoints: ['billing.internal:443\u001b[1A'],
    };
    expect(await owner.write(path, JSON.stringify([...entries, handWritten]))).toEqual({ ok: true });

    const list = await runCli(['registry', 'list'], env);
    expect(list.code).toBe(0);
    expect(raw(list.stdout)).toEqual([]);
    expect(list.stdout).toContain('Billing\\u001b]0;owned\\u0007\\u001b[8m\\u202egnillib');
    expect(list.stdout).toContain('billing.internal:443\\u001b[1A');
    // The sync state is closed to an anonymous reader, and the CLI says what that leaves out.
    expect(list.stderr).toContain('note: entries of cluster "prod" whose ownership marker');
    expect(raw(list.stderr)).toEqual([]);
    const json = await runCli(['registry', 'list', '--json'], env);
    expect(raw(json.stdout)).toEqual([]);
    expect(JSON.parse(json.stdout)).toContainEqual(handWritten);

    const before = await snapshot();
    const credentials = join(dir, 'writer');
    await writeFile(credentials, `${SYNC.user}:${SYNC.password}\n`, { mode: 0o600 });
    const register = await runCli(
      [
        'registry',
        'register',
        '--auth-file',
        credentials,
        '--name',
        'billing',
        '--endpoint',
        'billing.internal:443',
        '--description',
        'Billing\u001b]0;owned\u0007',
      ],
      env,
    );
    expect(register.code).toBe(2);
    expect(register.stderr).toContain(
      'the description "Billing\\u001b]0;owned\\u0007" contains control characters',
    );
    expect(raw(register.stderr)).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});
