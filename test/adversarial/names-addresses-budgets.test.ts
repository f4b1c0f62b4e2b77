// A tenant who can create Services in its own namespaces (tenant-evil, and in the second deployment tenant-evil-2)
// tries every way the registry once let it take names, addresses or space that are not its own, against the real
// pipeline: the forwarder watching the apiserver simulator, the local EventBridge with serverless.yml's rule, the
// queue, the sync handler, ZooKeeper, and the reconcile. After each attack nothing of anyone else has changed
// (people's entries byte for byte, the other namespaces' entries as they were), no write was refused, and each
// refusal is reported with its reason, by the sync and again by the reconcile.
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { ApiServerSimulator, type ServiceInput } from '../../lib/local/apiserver/index.ts';
import {
  entryBytes,
  type RegistryDocument,
  readerView,
  type StoredEntry,
} from '../../lib/registry/document.ts';
import { registerByHand } from '../../lib/registry/hand-edits.ts';
import type { SyncBatchResult } from '../../lib/sync/batch.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually } from '../support/cli.ts';

const connectString = inject('zkConnect');
const EVIL = 'tenant-evil';
const isTenant = (service: string | undefined) => service?.startsWith(`${EVIL}`) ?? false;
// What people registered by hand before anything ran: odd formatting and fields nobody else knows.
const HAND_MADE = [
  '{"name":"zookeeper","description":"ZooKeeper ensemble","endpoints":["zk1.internal:2181"],"team":"infra"}',
  '{ "name": "solr", "description": "Search",\n    "endpoints": ["solr.internal:8983"] }',
];
const ADDRESS = '203.0.113.66';
const elb = (label: string) => `${label}-0123456789abcdef.elb.eu-west-1.amazonaws.com`;
const lb = (namespace: string, name: string, extra: Partial<ServiceInput> = {}): ServiceInput => ({
  namespace,
  name,
  type: 'LoadBalancer',
  ports: [{ name: 'https', port: 443 }],
  ingress: [{ hostname: elb(name) }],
  ...extra,
});
const named = (name: string) => ({ annotations: { 'kube-zk-sync.io/name': name } });
const pad = (i: number) => String(i).padStart(4, '0');
/** 3000 of the Services any tenant can create for nothing: ClusterIP, one port, a name `nameLength` long and more. */
const cheapClusterIps = (nameLength: number): ServiceInput[] =>
  Array.from({ length: 3000 }, (_, i) => ({
    namespace: EVIL,
    name: `cheap-${pad(i)}-${'n'.repeat(nameLength)}`,
    type: 'ClusterIP',
    ports: [{ port: 80 }],
    externalIPs: [`198.51.100.${1 + (i % 250)}`],
  }));

/** What the sync and the reconcile said about each Service, and every write that was refused. */
class Reports {
  /** Service key → "published", "skipped: …", "invalid: …" or "conflict: …", as the sync last decided it. */
  readonly decided = new Map<string, string>();
  /** Problems the sync reported (its log), by Service key. */
  readonly problems = new Map<string, string>();
  readonly refusedWrites: string[] = [];

  readonly onSyncReport = (result: SyncBatchResult): void => {
    if (result.report.error) this.refusedWrites.push(result.report.error);
    for (const p of result.problems) this.problems.set(p.id, p.problem);
    const outcome = result.outcome;
    if (!outcome) return;
    for (const s of outcome.skipped) this.decided.set(s.key, `skipped: ${s.reason}`);
    for (const s of outcome.invalid) this.decided.set(s.key, `invalid: ${s.error}`);
    for (const c of outcome.plan.conflicts) this.decided.set(c.service, `conflict: held by ${c.heldBy}`);
    for (const c of [...outcome.plan.creates, ...outcome.plan.updates])
      this.decided.set(c.service, 'published');
  };

  /** Those of these Services the sync refused as invalid. */
  refused(keys: readonly string[]): string[] {
    return keys.filter((k) => this.decided.get(k)?.startsWith('invalid'));
  }

  /** Waits until the sync has decided every one of these Services. */
  async settle(keys: readonly string[]): Promise<void> {
    await eventually(
      `the sync to decide ${keys.length} Services`,
      () => keys.every((k) => this.decided.has(k)),
      45_000,
    );
  }
}

/** One deployment: its simulator, its pipeline, its document. */
class World {
  readonly reports = new Reports();
  readonly path = `/adversarial/${randomUUID()}/services`;
  readonly sim = new ApiServerSimulator({ bookmarkIntervalMs: 300 });
  // The hand-made entries are written as people would, here without credentials: a throwaway local ZooKeeper.
  readonly store = new ZkStore({ connectString, openAcl: true });
  readonly cluster = `adversarial-${randomUUID().slice(0, 8)}`;
  pipeline!: LocalPipeline;

  async start(env: Record<string, string>, legitimate: ServiceInput[]): Promise<void> {
    await this.store.update([this.path], () => ({
      data: [Buffer.from(`[\n${HAND_MADE.join(',\n')}\n]\n`)],
      result: 0,
    }));
    for (const s of legitimate) this.sim.createService(s);
    await this.sim.start();
    await this.run(env);
    await this.reports.settle(legitimate.map((s) => `${s.namespace}/${s.name}`));
  }

  /** The pipeline with these settings, after the one running (a new version deployed, or new settings). */
  async run(env: Record<string, string>): Promise<void> {
    await this.pipeline?.stop();
    this.reports.decided.clear();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(this.sim.kubeconfig());
    this.pipeline = await LocalPipeline.start({
      kubeConfig,
      zkConnect: connectString,
      registryPath: this.path,
      clusterId: this.cluster,
      env,
      queue: { windowMs: 100, batchSize: 1000, concurrency: 2 },
      onSyncReport: this.reports.onSyncReport,
    });
    await eventually('the forwarder to list', () => this.pipeline.forwarders.every((f) => f.ready), 30_000);
  }

  /** Creates the Services and waits until the sync has decided each of them. */
  async attack(services: ServiceInput[]): Promise<string[]> {
    const keys = services.map((s) => `${s.namespace}/${s.name}`);
    for (const s of services) this.sim.createService(s);
    await this.reports.settle(keys);
    await eventually('the pipeline to settle', () => this.pipeline.settled, 30_000);
    return keys;
  }

  async document(): Promise<RegistryDocument> {
    return (await this.pipeline.registry.read()).document;
  }

  /** Every entry that is not the tenant's, as stored: people's byte for byte, the cluster's other namespaces'. */
  async others(): Promise<Record<string, string>> {
    const entries = (await this.document()).entries.filter((e) => !isTenant(e.owner?.service));
    return Object.fromEntries(entries.map((e) => [e.name, e.text ?? JSON.stringify(e.value)]));
  }

  async tenantEntries(namespace = EVIL): Promise<StoredEntry[]> {
    return (await this.document()).entries.filter((e) => e.owner?.service.startsWith(`${namespace}/`));
  }

  /** People register an entry by hand, as `kube-zk-sync registry register` does. */
  async registerByHand(name: string): Promise<string> {
    const { result } = await this.pipeline.registry.modify((doc) => {
      const edit = registerByHand(doc, {
        name,
        endpoints: [`${name}.internal:9092`],
        description: 'by hand',
      });
      return { ...('document' in edit ? { document: edit.document } : {}), result: edit.outcome };
    });
    return result;
  }

  /**
   * Another namespace's Service gets a new address and another one is deleted; waits until the document shows both,
   * under their default names.
   */
  async updateAndDelete(
    [namespace, name]: [string, string],
    ip: string,
    deleted: [string, string],
  ): Promise<void> {
    this.sim.updateService(namespace, name, (d) => {
      d.status.loadBalancer.ingress = [{ ip }];
    });
    this.sim.deleteService(...deleted);
    await eventually('the update and the deletion', async () => {
      const document = await this.document();
      const updated = document.entries.find((e) => e.name === `${name}.${namespace}`);
      return (
        updated !== undefined &&
        readerView(updated).endpoints[0] === `${ip}:443` &&
        !document.entries.some((e) => e.name === `${deleted[1]}.${deleted[0]}`)
      );
    });
  }

  /** A reconcile agrees with what the syncs did: it changes nothing, and reports the same refusals. */
  async reconcileAgrees(): Promise<Map<string, string>> {
    const result = await this.pipeline.reconcileNow();
    expect(result.report).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    expect(result.report.refused).toBeUndefined();
    return new Map([
      ...result.skipped.map((s): [string, string] => [s.key, `skipped: ${s.reason}`]),
      ...result.invalid.map((s): [string, string] => [s.key, `invalid: ${s.error}`]),
    ]);
  }

  async stop(): Promise<void> {
    await this.pipeline?.stop();
    await this.sim.stop();
    this.store.close();
  }
}

/**
 * The sync decided `key` as `kind` for the reason `why`, said so in its report's problems when the Service is
 * invalid (a skipped one is not a problem, but its reason is in the outcome), and a reconcile agrees.
 */
function expectRefused(
  reports: Reports,
  reconciled: Map<string, string>,
  key: string,
  kind: 'invalid' | 'skipped',
  why: RegExp,
): void {
  for (const said of [reports.decided.get(key), reconciled.get(key)]) {
    expect(said, key).toMatch(new RegExp(`^${kind}: Service ${key}: `));
    expect(said, key).toMatch(why);
  }
  if (kind === 'invalid') expect(reports.problems.get(key), key).toMatch(why);
}

/** Each of these Services is invalid for the reason `why`, as `expectRefused` has it. */
function expectAllRefused(
  reports: Reports,
  reconciled: Map<string, string>,
  keys: readonly string[],
  why: RegExp,
): void {
  for (const key of keys) expectRefused(reports, reconciled, key, 'invalid', why);
}

describe('a tenant of a deployment that trusts only the platform namespace with names', () => {
  const world = new World();
  const STRICT = {
    SERVICE_TYPES: 'LoadBalancer,NodePort,ClusterIP',
    RESERVED_NAMES: 'kafka,solr,*.db',
    NAME_OVERRIDE_NAMESPACES: 'platform',
    ALLOW_EXTERNAL_IPS: 'true',
    EXTERNAL_IPS_NAMESPACES: 'legacy-net',
  };
  let before: Record<string, string>;

  beforeAll(async () => {
    await world.start(STRICT, [
      lb('shop', 'api'),
      lb('platform', 'search', named('search')),
      // A lookalike from a trusted namespace: a conflict, never a shadow.
      lb('platform', 'zk-admin', named('ZooKeeper')),
      // An operator's NodePort behind an address routed to the nodes: its externalIPs are trusted.
      {
        namespace: 'legacy-net',
        name: 'mainframe',
        type: 'NodePort',
        ports: [{ port: 3270 }],
        externalIPs: ['192.0.2.10'],
      },
    ]);
    before = await world.others();
  }, 60_000);
  afterAll(() => world.stop());

  test('the legitimate Services are published; a trusted lookalike is a conflict', async () => {
    const document = await world.document();
    const entry = (name: string) => document.entries.find((e) => e.name === name);
    expect(entry('api.shop')?.owner?.service).toBe('shop/api');
    expect(entry('search')?.owner?.service).toBe('platform/search');
    expect(
      entry('mainframe.legacy-net') && readerView(entry('mainframe.legacy-net') as StoredEntry),
    ).toMatchObject({ endpoints: ['192.0.2.10:3270'] });
    expect(entry('ZooKeeper')).toBeUndefined();
    expect(world.reports.problems.get('platform/zk-admin')).toBe(
      'Service platform/zk-admin wants the name "ZooKeeper", held by a hand-made entry',
    );
  });

  test('claiming names before their owners register them, and lookalikes: refused, and the owners register', async () => {
    const keys = await world.attack([
      lb(EVIL, 'grab', named('kafka')),
      lb(EVIL, 'grab-free', named('billing')),
      lb(EVIL, 'look', named('Kafka')),
      lb(EVIL, 'look-zk', named('Zookeeper')),
      lb(EVIL, 'grab-db', named('orders.db')),
    ]);
    const reconciled = await world.reconcileAgrees();
    const [grab, free, look, lookZk, db] = keys as [string, string, string, string, string];
    expectRefused(
      world.reports,
      reconciled,
      grab,
      'invalid',
      /the name "kafka" matches RESERVED_NAMES entry "kafka"/,
    );
    expectRefused(
      world.reports,
      reconciled,
      free,
      'invalid',
      /the name "billing" is not namespace tenant-evil's/,
    );
    expectRefused(
      world.reports,
      reconciled,
      look,
      'invalid',
      /the name "Kafka" matches RESERVED_NAMES entry "kafka"/,
    );
    expectRefused(world.reports, reconciled, lookZk, 'invalid', /"Zookeeper" is not namespace tenant-evil's/);
    expectRefused(
      world.reports,
      reconciled,
      db,
      'invalid',
      /"orders.db" matches RESERVED_NAMES entry "\*.db"/,
    );
    expect(await world.tenantEntries()).toEqual([]);
    expect(await world.others()).toEqual(before);
    // The people who run Kafka, and billing, register their names as if nobody had tried.
    expect(await world.registerByHand('kafka')).toBe('created');
    expect(await world.registerByHand('billing')).toBe('created');
    before = await world.others();
  });

  test("another team's default name, before that team publishes: refused, and the team's Service gets it", async () => {
    const [steal] = await world.attack([lb(EVIL, 'steal', named('web.shop'))]);
    world.sim.createService(lb('shop', 'web'));
    await world.reports.settle(['shop/web']);
    const reconciled = await world.reconcileAgrees();
    expectRefused(
      world.reports,
      reconciled,
      steal as string,
      'invalid',
      /"web.shop" is not namespace tenant-evil's/,
    );
    const web = (await world.document()).entries.find((e) => e.name === 'web.shop');
    expect(web?.owner?.service).toBe('shop/web');
    expect(readerView(web as StoredEntry).endpoints).toEqual([`${elb('web')}:443`]);
    before = await world.others();
  });

  test(`pointing a name at ${ADDRESS}:443 through externalIPs: the address is never published`, async () => {
    const [clusterIp, withLb] = (await world.attack([
      { namespace: EVIL, name: 'kafka', type: 'ClusterIP', ports: [{ port: 443 }], externalIPs: [ADDRESS] },
      lb(EVIL, 'kafka-lb', { externalIPs: [ADDRESS] }),
    ])) as [string, string];
    const reconciled = await world.reconcileAgrees();
    expectRefused(
      world.reports,
      reconciled,
      clusterIp,
      'skipped',
      /its spec.externalIPs are ignored: namespace tenant-evil is not in EXTERNAL_IPS_NAMESPACES \(legacy-net\)/,
    );
    expect(world.reports.decided.get(withLb)).toBe('published');
    const document = await world.document();
    const own = document.entries.find((e) => e.owner?.service === withLb);
    expect(readerView(own as StoredEntry).endpoints).toEqual([`${elb('kafka-lb')}:443`]);
    expect(document.entries.flatMap((e) => readerView(e).endpoints).some((e) => e.includes(ADDRESS))).toBe(
      false,
    );
    expect(await world.others()).toEqual(before);
  });

  test('~70 Services with many ports and IPv6 externalIPs: only its namespace budget is filled', async () => {
    const ipv6 = (i: number) =>
      Array.from({ length: 16 }, (_, j) => `2001:db8::${i.toString(16)}:${j.toString(16)}`);
    const keys = await world.attack(
      Array.from({ length: 70 }, (_, i) =>
        lb(EVIL, `fill-${pad(i)}`, {
          ports: Array.from({ length: 64 }, (_, p) => ({ name: `p${p}`, port: 10_000 + p })),
          externalIPs: ipv6(i),
          annotations: {
            'kube-zk-sync.io/name': `${'x'.repeat(200)}-${pad(i)}.${EVIL}`,
            'kube-zk-sync.io/description': 'd'.repeat(1024),
          },
        }),
      ),
    );
    const reconciled = await world.reconcileAgrees();
    const refused = world.reports.refused(keys);
    expect(refused.length).toBeGreaterThan(40);
    expectAllRefused(
      world.reports,
      reconciled,
      refused,
      /over namespace tenant-evil's budget: .* more than NAMESPACE_MAX_BYTES \(100000\); it is not published/,
    );
    const published = await world.tenantEntries();
    const bytes = published.reduce((sum, e) => sum + entryBytes(e), 0);
    expect(bytes).toBeLessThanOrEqual(100_000);
    expect(published.flatMap((e) => readerView(e).endpoints).some((e) => e.startsWith('[2001:db8'))).toBe(
      false,
    );
    const { bytes: documentBytes } = await world.pipeline.registry.read();
    expect(documentBytes).toBeLessThan(200_000);
    expect(world.reports.refusedWrites).toEqual([]);
    expect(await world.others()).toEqual(before);
    // People's own registrations still have room.
    expect(await world.registerByHand('kafka-connect')).toBe('created');
    before = await world.others();
    // A budget does not flap: another reconcile keeps the same Services published and refuses the same.
    const again = await world.reconcileAgrees();
    expect(keys.filter((k) => again.get(k)?.startsWith('invalid'))).toEqual(refused);
  });

  test('thousands of cheap ClusterIP Services with long names: nothing published, and the sync keeps working', async () => {
    const keys = await world.attack(cheapClusterIps(52));
    for (const key of keys)
      expect(world.reports.decided.get(key), key).toMatch(/^skipped: .*externalIPs are ignored/);
    expect(await world.others()).toEqual(before);
    // Everyone else's changes still go through: an update and a deletion.
    await world.updateAndDelete(['shop', 'api'], '198.51.100.200', ['shop', 'web']);
    expect(world.reports.refusedWrites).toEqual([]);
    const reconciled = await world.reconcileAgrees();
    expect(reconciled.get(keys[0] as string)).toMatch(/externalIPs are ignored/);
    // Nothing else changed than those two.
    const { 'api.shop': _api, 'web.shop': _web, ...unchanged } = before;
    const { 'api.shop': _changed, ...now } = await world.others();
    expect(now).toEqual(unchanged);
  });
});

describe('a tenant whose externalIPs the operator trusts is still held to the budgets', () => {
  const world = new World();
  const TRUSTING = {
    SERVICE_TYPES: 'LoadBalancer,NodePort,ClusterIP',
    ALLOW_EXTERNAL_IPS: 'true',
    EXTERNAL_IPS_NAMESPACES: 'tenant-*',
    // Several clusters share this document: this one may fill 150,000 of its 1,000,000 bytes.
    CLUSTER_MAX_BYTES: '150000',
  };
  let before: Record<string, string>;

  beforeAll(async () => {
    await world.start(TRUSTING, [lb('shop', 'api'), lb('shop', 'web'), lb('payments', 'ledger')]);
    before = await world.others();
  }, 60_000);
  afterAll(() => world.stop());

  test('thousands of cheap ClusterIP Services: NAMESPACE_MAX_ENTRIES of them, the rest refused one by one', async () => {
    // Long names, but short enough that the entry budget, not the byte budget, is what they reach.
    const keys = await world.attack(cheapClusterIps(30));
    expect(await world.tenantEntries()).toHaveLength(250);
    const refused = world.reports.refused(keys);
    expect(refused).toHaveLength(2750);
    const reconciled = await world.reconcileAgrees();
    expectAllRefused(
      world.reports,
      reconciled,
      refused,
      /over namespace tenant-evil's budget: its Services have 250 entries, and NAMESPACE_MAX_ENTRIES is 250; it is not published/,
    );
    expect(world.reports.refusedWrites).toEqual([]);
    expect(await world.others()).toEqual(before);
  });

  test('~70 Services with 16 IPv6 externalIPs × 16 ports each: the cluster budget holds', async () => {
    const keys = await world.attack(
      Array.from({ length: 70 }, (_, i) =>
        lb(`${EVIL}-2`, `fill-${pad(i)}`, {
          ports: Array.from({ length: 16 }, (_, p) => ({ name: `p${p}`, port: 10_000 + p })),
          externalIPs: Array.from(
            { length: 16 },
            (_, j) => `2001:db8:ffff:ffff:ffff:ffff:${pad(i)}:${pad(j)}`,
          ),
          annotations: { 'kube-zk-sync.io/description': 'd'.repeat(1024) },
        }),
      ),
    );
    const reconciled = await world.reconcileAgrees();
    const refused = world.reports.refused(keys);
    expect(refused.length).toBeGreaterThan(60);
    expectAllRefused(
      world.reports,
      reconciled,
      refused,
      /over cluster adversarial-\w+'s budget: .* more than CLUSTER_MAX_BYTES \(150000\); it is not published/,
    );
    const { bytes } = await world.pipeline.registry.read();
    expect(bytes).toBeLessThan(150_000 + 2_000);
    expect(world.reports.refusedWrites).toEqual([]);
    expect(await world.others()).toEqual(before);
    // People's registrations, and the other namespaces' updates and deletions, still go through.
    expect(await world.registerByHand('kafka')).toBe('created');
    await world.updateAndDelete(['payments', 'ledger'], '198.51.100.201', ['shop', 'web']);
    expect(world.reports.refusedWrites).toEqual([]);
  });
});

describe('names a tenant took before the name policy are given back', () => {
  const world = new World();
  afterAll(() => world.stop());

  test('the next deployment removes them, reports why, and their owners register them', async () => {
    // What every namespace could do before: publish any name.
    await world.start({ NAME_OVERRIDE_NAMESPACES: '*' }, [
      lb('shop', 'api'),
      lb(EVIL, 'grab', named('kafka')),
      lb(EVIL, 'own', named('own.tenant-evil')),
    ]);
    const taken = (await world.document()).entries.find((e) => e.name === 'kafka');
    expect(taken?.owner?.service).toBe(`${EVIL}/grab`);
    expect(await world.registerByHand('kafka')).toBe('refused');
    const before = await world.others();

    await world.run({ RESERVED_NAMES: 'kafka' });
    await world.reports.settle([`${EVIL}/grab`]);
    await eventually('the name to be given back', async () =>
      (await world.document()).entries.every((e) => e.name !== 'kafka'),
    );
    const reconciled = await world.reconcileAgrees();
    expectRefused(
      world.reports,
      reconciled,
      `${EVIL}/grab`,
      'invalid',
      /the name "kafka" matches RESERVED_NAMES entry "kafka"/,
    );
    expect(world.reports.problems.get(`${EVIL}/grab`)).toMatch(/its entry "kafka" is removed/);
    // The tenant keeps what is its own; nothing else changed.
    expect((await world.tenantEntries()).map((e) => e.name)).toEqual(['own.tenant-evil']);
    expect(await world.others()).toEqual(before);
    expect(await world.registerByHand('kafka')).toBe('created');
  });
});
