// The mirror end to end: real ZooKeeper, the apiserver simulator over HTTP through @kubernetes/client-node, real
// kubectl reading what it wrote. Hand-made entries registered, changed and removed through the CLI and by a writer
// that rewrites the whole document show up as Services and EndpointSlices; a user's Service is never touched; a
// restart, a corrupt document and ZooKeeper out of reach delete nothing; of two replicas only the leader writes.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { ApiServerSimulator } from '../../lib/local/apiserver/index.ts';
import { parseMirrorConfig } from '../../lib/mirror/config.ts';
import { type MirrorProcess, startMirrorProcess } from '../../lib/mirror/process.ts';
import { ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually, registryCli, runCli, startCli } from '../support/cli.ts';
import { kubectlBin } from '../support/kubectl.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Outsider } from '../support/zk-outsider.ts';

const zk = inject('zkConnect');
const cli = registryCli(zk);
const NS = 'registry';
const SERVICES = { apiVersion: 'v1', kind: 'Service' };
const SLICES = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' };

let sim: ApiServerSimulator;
let dir: string;
let kubeconfigFile: string;
let kubeConfig: KubeConfig;
const running: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  sim = new ApiServerSimulator();
  await sim.start();
  dir = await mkdtemp(join(tmpdir(), 'mirror-test-'));
  kubeconfigFile = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfigFile);
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigFile);
});

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
  for (const kind of [SLICES, SERVICES]) {
    for (const o of sim.list(kind.apiVersion, kind.kind)) {
      if (o.metadata.namespace === NS)
        sim.delete({ ...kind, namespace: NS, name: o.metadata.name as string });
    }
  }
  for (const lease of sim.list('coordination.k8s.io/v1', 'Lease'))
    sim.delete({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: NS,
      name: lease.metadata.name as string,
    });
});

afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

const newPath = () => `/mirror-test/${randomUUID()}`;

/** One mirror replica on `path`, with short lease timings, reading ZooKeeper at `connect`. */
async function mirror(
  path: string,
  options: { identity?: string; connect?: string; sessionTimeoutMs?: number; maxDeleteShare?: string } = {},
): Promise<MirrorProcess & { store: ZkRegistryStore }> {
  const store = new ZkRegistryStore(
    new ZkStore({
      connectString: options.connect ?? zk,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 4_000,
      connectTimeoutMs: 2_000,
      operationTimeoutMs: 2_000,
    }),
    path,
  );
  const config = parseMirrorConfig(
    {
      clusterId: 'prod',
      namespace: NS,
      leaseDurationSeconds: '3',
      renewDeadlineSeconds: '2',
      retryPeriodSeconds: '1',
      ...(options.maxDeleteShare ? { maxDeleteShare: options.maxDeleteShare } : {}),
    },
    {},
    options.identity ?? 'replica-a',
  );
  const process = await startMirrorProcess({ config: { ...config, port: 0 }, source: store, kubeConfig });
  const handle = {
    ...process,
    store,
    async stop() {
      await process.stop();
      store.close();
    },
  };
  running.push(handle);
  return handle;
}

const services = () =>
  sim.list(SERVICES.apiVersion, SERVICES.kind).filter((o) => o.metadata.namespace === NS);
const slices = () => sim.list(SLICES.apiVersion, SLICES.kind).filter((o) => o.metadata.namespace === NS);
const service = (name: string) => sim.get({ ...SERVICES, namespace: NS, name });
const slice = (name: string) => sim.get({ ...SLICES, namespace: NS, name });
const addressesOf = (name: string) =>
  ((slice(name)?.endpoints as Array<{ addresses: string[] }> | undefined) ?? []).map((e) => e.addresses[0]);

// biome-ignore lint/suspicious/noExplicitAny: kubectl output is checked field by field
async function kubectlJson(...args: string[]): Promise<{ items: Array<Record<string, any>> }> {
  const { stdout } = await promisify(execFile)(
    kubectlBin(),
    ['--kubeconfig', kubeconfigFile, '--cache-dir', join(dir, 'cache'), ...args, '-o', 'json'],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout);
}

async function register(path: string, name: string, ...endpoints: string[]) {
  const result = await cli(
    path,
    'registry',
    'register',
    '--name',
    name,
    ...endpoints.flatMap((e) => ['--endpoint', e]),
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** The leader has mirrored a version of the document completely (readiness alone may be a warm follower's). */
const synced = (m: MirrorProcess) => m.mirror.syncedVersion !== undefined;

/** The sum of a metric's samples (all labels). */
async function metric(m: MirrorProcess, name: string): Promise<number> {
  const text = await m.metrics.text();
  return [...text.matchAll(new RegExp(`^kube_zk_sync_mirror_${name}(?:\\{[^}]*\\})? (-?[\\d.e+]+)$`, 'gm'))]
    .map((match) => Number(match[1]))
    .reduce((a, b) => a + b, 0);
}

const uids = () =>
  Object.fromEntries(
    [...services(), ...slices()].map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.uid]),
  );

describe('kube-zk-sync mirror against ZooKeeper and the simulator', () => {
  test('--dry-run lists what a sync would write, the conflicts and why entries are not mirrored; writes nothing', async () => {
    const path = newPath();
    sim.create({
      ...SERVICES,
      metadata: { name: 'pg', namespace: NS },
      spec: { type: 'ClusterIP', ports: [{ port: 5432, protocol: 'TCP' }] },
    });
    await register(path, 'kafka', 'kafka.internal:9092');
    await register(path, 'pg', '10.0.0.1:5432');
    await register(path, 'cassandra', 'c1.internal:9042', 'c2.internal:9042');
    const before = sim.resourceVersion;
    const result = await runCli(
      ['mirror', '--dry-run', '--kubeconfig', kubeconfigFile, '--cluster-id', 'prod', '--namespace', NS],
      { ZK_CONNECT: zk, REGISTRY_PATH: path },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      '+ create Service/kafka (entry "kafka")',
      '! conflict Service/pg (entry "pg"): it exists without the labels of kube-zk-sync (someone else made it), so it is left alone',
      '? not mirrored "cassandra": it has 2 host names (c1.internal, c2.internal); an ExternalName Service is one DNS name, and host names are not resolved to IP addresses',
    ]);
    expect(sim.resourceVersion).toBe(before);
  });

  test('register, change, deregister through the CLI: Services and EndpointSlices follow, as kubectl sees them', async () => {
    const path = newPath();
    await register(path, 'kafka', 'kafka.internal:9092');
    await register(path, 'Postgres.Main', '10.0.0.1:5432', '10.0.0.2:5432', '[2001:db8::1]:5432');
    await register(path, 'solr', '10.0.0.9:8983');
    const m = await mirror(path);
    await eventually('the three Services', () => services().length === 3 && synced(m));

    const svc = await kubectlJson('get', 'svc', '-n', NS);
    const byName = Object.fromEntries(svc.items.map((s) => [s.metadata.name, s]));
    expect(byName.kafka?.spec).toMatchObject({ type: 'ExternalName', externalName: 'kafka.internal' });
    expect(byName['postgres-main']?.spec.ports).toEqual([
      expect.objectContaining({ name: 'tcp-5432', port: 5432, protocol: 'TCP' }),
    ]);
    expect(byName['postgres-main']?.spec.selector).toBeUndefined();
    expect(byName['postgres-main']?.metadata.annotations['kube-zk-sync.io/registry-name']).toBe(
      'Postgres.Main',
    );
    expect(byName['postgres-main']?.metadata.annotations['kube-zk-sync.io/register']).toBe('false');
    const eps = await kubectlJson(
      'get',
      'endpointslices',
      '-n',
      NS,
      '-l',
      'kubernetes.io/service-name=postgres-main',
    );
    expect(
      eps.items
        .map((s) => [s.addressType, s.endpoints.map((e: { addresses: string[] }) => e.addresses[0])])
        .sort(),
    ).toEqual([
      ['IPv4', ['10.0.0.1', '10.0.0.2']],
      ['IPv6', ['2001:db8::1']],
    ]);
    for (const s of eps.items) {
      expect(s.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('mirror.kube-zk-sync.io');
      expect(s.ports).toEqual([{ name: 'tcp-5432', port: 5432, protocol: 'TCP' }]);
    }

    // A change: one write, to the slice that changed.
    const writes = await m.metrics.text();
    await register(path, 'solr', '10.0.0.10:8983');
    await eventually('the new solr address', () => addressesOf('solr-ipv4').join() === '10.0.0.10');
    const after = await m.metrics.text();
    const written = (text: string, kind: string) =>
      Number(new RegExp(`objects_written_total\\{kind="${kind}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(written(after, 'EndpointSlice') - written(writes, 'EndpointSlice')).toBe(1);
    expect(written(after, 'Service') - written(writes, 'Service')).toBe(0);

    const deregistered = await cli(path, 'registry', 'deregister', '--name', 'kafka');
    expect(deregistered.code).toBe(0);
    await eventually('kafka gone', () => service('kafka') === undefined);
    expect((await kubectlJson('get', 'svc', '-n', NS)).items.map((s) => s.metadata.name).sort()).toEqual([
      'postgres-main',
      'solr',
    ]);
  });

  test('a writer that rewrites the whole document (no version): the mirror follows each rewrite', async () => {
    const path = newPath();
    await register(path, 'a', '10.1.0.1:80');
    const m = await mirror(path);
    await eventually('a', () => service('a') !== undefined && synced(m));
    const writer = await Outsider.connect(zk);
    try {
      const doc = (entries: Array<[string, string[]]>) =>
        JSON.stringify(entries.map(([name, endpoints]) => ({ name, description: name, endpoints })));
      await writer.write(
        path,
        doc([
          ['a', ['10.1.0.2:80']],
          ['b', ['b.internal:443']],
          ['c', ['10.1.0.3:81']],
        ]),
      );
      await eventually(
        'the rewrite',
        () =>
          addressesOf('a-ipv4').join() === '10.1.0.2' &&
          service('b') !== undefined &&
          service('c') !== undefined,
      );
      await writer.write(
        path,
        doc([
          ['a', ['10.1.0.2:80']],
          ['c', ['10.1.0.3:81']],
          ['d', ['10.1.0.4:82']],
        ]),
      );
      await eventually('b replaced by d', () => service('b') === undefined && service('d') !== undefined);
    } finally {
      writer.close();
    }
  });

  test("a user's unlabelled Service of an entry's name is never touched, and gets no slices", async () => {
    const path = newPath();
    const mine = sim.create({
      ...SERVICES,
      metadata: { name: 'pg', namespace: NS, labels: { app: 'pg' } },
      spec: { type: 'ClusterIP', ports: [{ port: 5432, protocol: 'TCP' }], selector: { app: 'pg' } },
    });
    await register(path, 'pg', '10.0.0.1:5432');
    await register(path, 'other', '10.0.0.2:5432');
    const m = await mirror(path);
    await eventually('other mirrored', () => service('other') !== undefined && synced(m));
    expect(m.mirror.lastPlan?.conflicts).toEqual([
      expect.objectContaining({ entry: 'pg', kind: 'Service', name: 'pg' }),
    ]);
    // Deregistering the entry does not delete it either.
    await cli(path, 'registry', 'deregister', '--name', 'pg');
    await eventually('the plan without pg', () => m.mirror.lastPlan?.conflicts.length === 0);
    const now = service('pg');
    expect(now?.metadata.resourceVersion).toBe(mine.metadata.resourceVersion);
    expect(now?.metadata.uid).toBe(mine.metadata.uid);
    expect(slices().filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'pg')).toEqual([]);
  });

  test('a restart, a corrupt document and a missing one delete nothing', async () => {
    const path = newPath();
    for (const n of ['a', 'b', 'c', 'd']) await register(path, n, `10.2.0.${n.charCodeAt(0) - 96}:80`);
    let m = await mirror(path);
    await eventually('four Services', () => services().length === 4 && synced(m));
    const before = uids();
    await m.stop();
    running.length = 0;

    m = await mirror(path);
    await eventually('ready after the restart', () => synced(m));
    expect(uids()).toEqual(before);

    const seen = async (version: number) => (await metric(m, 'document_version')) === version;
    const writer = await Outsider.connect(zk);
    try {
      await writer.write(path, '[{"name": "a", "endpoints": [');
      await eventually(
        'the corrupt version seen',
        async () => (await metric(m, 'document_read_errors_total')) > 0,
      );
      expect(uids()).toEqual(before);
      await writer.remove(path);
      await eventually('the missing document seen', () => seen(-1));
      expect(uids()).toEqual(before);
      const entry = (n: string, ip: string) => ({ name: n, description: '', endpoints: [`${ip}:80`] });
      await writer.create(
        path,
        JSON.stringify([
          entry('a', '10.2.0.1'),
          entry('b', '10.2.0.2'),
          entry('c', '10.2.0.3'),
          entry('e', '10.2.0.5'),
        ]),
      );
      await eventually('d replaced by e', () => service('d') === undefined && service('e') !== undefined);
      // a, b and c are the objects of before: nothing was deleted and re-created on the way.
      for (const key of ['Service/a', 'Service/b', 'Service/c', 'EndpointSlice/a-ipv4'])
        expect(uids()[key]).toBe(before[key]);
    } finally {
      writer.close();
    }
  });

  test('ZooKeeper out of reach past the session timeout deletes nothing; changes after it are applied', async () => {
    const path = newPath();
    for (const n of ['a', 'b', 'c']) await register(path, n, `10.3.0.${n.charCodeAt(0) - 96}:80`);
    const [host, port] = zk.split(',')[0]?.split(':') ?? [];
    const proxy = await TcpProxy.start({ host: host as string, port: Number(port) });
    try {
      const m = await mirror(path, { connect: proxy.address, sessionTimeoutMs: 2_000 });
      await eventually('three Services', () => services().length === 3 && synced(m));
      const before = uids();
      // Cut: the open connection goes silent and new ones are never answered, for longer than the session timeout.
      proxy.silenceNew(true);
      proxy.silenceCurrent();
      await eventually(
        'the outage noticed',
        async () => (await metric(m, 'document_read_errors_total')) > 0,
        30_000,
      );
      expect(uids()).toEqual(before);
      proxy.silenceNew(false);
      await register(path, 'd', '10.3.0.4:80');
      await eventually('d after the outage', () => service('d') !== undefined, 30_000);
      expect(Object.entries(before).every(([k, uid]) => uids()[k] === uid)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  test('more than MAX_DELETE_SHARE at once is held; the rest is applied', async () => {
    const path = newPath();
    for (const n of ['a', 'b', 'c', 'd']) await register(path, n, `10.4.0.${n.charCodeAt(0) - 96}:80`);
    const m = await mirror(path);
    await eventually('four', () => services().length === 4 && synced(m));
    const writer = await Outsider.connect(zk);
    try {
      await writer.write(path, JSON.stringify([{ name: 'z', description: '', endpoints: ['10.4.0.26:80'] }]));
      await eventually('z created', () => service('z') !== undefined);
      expect(m.mirror.lastPlan?.held).toMatch(/refusing to delete 4 of the mirror's Services \(100%/);
      expect(
        services()
          .map((s) => s.metadata.name)
          .sort(),
      ).toEqual(['a', 'b', 'c', 'd', 'z']);
    } finally {
      writer.close();
    }
  });

  test('two replicas: one writes; when it is killed mid-sync the other takes over and finishes', async () => {
    const path = newPath();
    const writer = await Outsider.connect(zk);
    const many = Array.from({ length: 300 }, (_, i) => ({
      name: `db-${String(i).padStart(3, '0')}`,
      description: '',
      endpoints: [`10.5.${i >> 8}.${i & 255}:5432`],
    }));
    await writer.create(path, JSON.stringify(many));
    writer.close();
    // Replica a is the real command in its own process, so that it can be killed as a node failure kills it.
    const a = startCli(
      [
        'mirror',
        '--kubeconfig',
        kubeconfigFile,
        '--zk',
        zk,
        '--path',
        path,
        '--cluster-id',
        'prod',
        '--namespace',
        NS,
        '--identity',
        'replica-a',
        '--lease-duration-seconds',
        '3',
        '--renew-deadline-seconds',
        '2',
        '--retry-period-seconds',
        '1',
        '--port',
        '0',
        '--concurrency',
        '1',
      ],
      { ZK_CONNECT: '', REGISTRY_PATH: '' },
    );
    const holder = () =>
      sim.get({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: NS,
        name: 'kube-zk-sync-mirror',
      })?.spec as { holderIdentity?: string; leaseTransitions?: number } | undefined;
    try {
      await eventually(
        'a leads and writes',
        () => holder()?.holderIdentity === 'replica-a' && services().length > 0,
      );
      const b = await mirror(path, { identity: 'replica-b' });
      await eventually('b follows, warm', () => b.mirror.ready);
      expect(b.elector.isLeader).toBe(false);
      expect(await metric(b, 'objects_written_total')).toBe(0);
      a.child.kill('SIGKILL');
      await new Promise((resolve) => a.child.once('exit', resolve));
      const atCrash = slices().length;
      expect(atCrash).toBeLessThan(300);
      await eventually(
        'b takes over and finishes',
        () => b.elector.isLeader && slices().length === 300,
        30_000,
      );
      expect(services()).toHaveLength(300);
      expect(holder()).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
      // b wrote only what a had not: one write per object, nothing twice.
      expect(await metric(b, 'objects_written_total')).toBeLessThanOrEqual(600 - atCrash);
    } finally {
      a.child.kill('SIGKILL');
    }
  });
});
