import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { freePort } from '../../lib/local/zookeeper.ts';
import { ownedEntry, parseDocument, readerView, serializeDocument } from '../../lib/registry/document.ts';
import { fingerprint, parseSyncState, serializeSyncState } from '../../lib/registry/sync-state.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually, registryCli, runCli, startCli } from '../support/cli.ts';

const zk = inject('zkConnect');
const store = new ZkStore({ openAcl: true, connectString: zk });
afterAll(() => store.close());

const newPath = () => `/cli/${randomUUID()}/services`;
const cli = registryCli(zk);
const put = (path: string, text: string) =>
  store.update([path], () => ({ data: [Buffer.from(text)], result: 0 }));
const text = async (path: string) => (await store.read(path)).data?.toString() ?? '';

describe('kube-zk-sync registry', () => {
  test('register creates the document, list and get show the entry', async () => {
    const path = newPath();
    const r = await cli(
      path,
      'registry',
      'register',
      '--name',
      'kafka',
      '--endpoint',
      'k2.internal:9092',
      '--endpoint',
      'k1.internal:9092',
      '--description',
      'Kafka brokers',
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^created "kafka" in \/cli\/.*\/services \(document version 0\)/);
    expect(await text(path)).toBe(
      '[\n  {"name":"kafka","description":"Kafka brokers","endpoints":["k1.internal:9092","k2.internal:9092"]}\n]\n',
    );

    const list = await cli(path, 'registry', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+ENDPOINTS\s+OWNER\s+DESCRIPTION$/);
    expect(list.stdout).toMatch(/kafka\s+k1.internal:9092,k2.internal:9092\s+hand-made\s+Kafka brokers/);
    const json = await cli(path, 'registry', 'list', '--json');
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'kafka', description: 'Kafka brokers', endpoints: ['k1.internal:9092', 'k2.internal:9092'] },
    ]);
    const get = await cli(path, 'registry', 'get', '--name', 'kafka', '--json');
    expect(JSON.parse(get.stdout).name).toBe('kafka');
    const missing = await cli(path, 'registry', 'get', '--name', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^kube-zk-sync: no entry named "nope" in /);
  });

  test('register updates a hand-made entry and keeps the fields people added; unchanged writes nothing', async () => {
    const path = newPath();
    await put(
      path,
      '[{"name":"solr","description":"Search","endpoints":["s1:8983"],"team":"search","tier":1}]',
    );
    const update = await cli(path, 'registry', 'register', '--name', 'solr', '--endpoint', 's2:8983');
    expect(update.stdout).toMatch(/^updated "solr"/);
    expect(JSON.parse(await text(path))).toEqual([
      { name: 'solr', description: 'Search', endpoints: ['s2:8983'], team: 'search', tier: 1 },
    ]);
    const before = await store.read(path);
    const again = await cli(path, 'registry', 'register', '--name', 'solr', '--endpoint', 's2:8983');
    expect(again.stdout).toMatch(/^unchanged "solr"/);
    expect((await store.read(path)).version).toBe(before.version);
  });

  test('register and deregister refuse an entry that a cluster manages, unless --force', async () => {
    const path = newPath();
    const managed = serializeDocument({
      entries: [
        ownedEntry(
          { name: 'web.default', description: 'w', endpoints: ['lb:80'] },
          { cluster: 'prod', service: 'default/web' },
        ),
      ],
    });
    await put(path, managed);
    const refused = await cli(path, 'registry', 'register', '--name', 'web.default', '--endpoint', 'x:1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refusing to overwrite "web.default": it is managed by cluster "prod" \(Service default\/web\).*--force/,
    );
    const refusedDelete = await cli(path, 'registry', 'deregister', '--name', 'web.default');
    expect(refusedDelete.code).toBe(1);
    expect(await text(path)).toBe(managed);
    const forced = await cli(
      path,
      'registry',
      'register',
      '--name',
      'web.default',
      '--endpoint',
      'x:1',
      '--force',
    );
    expect(forced.code).toBe(0);
    expect(parseDocument(await text(path)).entries[0]?.owner).toBeUndefined();
    expect((await cli(path, 'registry', 'deregister', '--name', 'web.default')).code).toBe(0);
    expect(await text(path)).toBe('[]\n');
  });

  test.each([
    [
      ['registry', 'register', '--name', 'bad name!', '--endpoint', 'h:1'],
      2,
      /entry "bad name!" is invalid: the name "bad name!" may only contain/,
    ],
    [['registry', 'register', '--name', 'x', '--endpoint', 'h:99999'], 2, /has port 99999, outside 1–65535/],
    [['registry', 'register', '--name', 'x', '--endpoint', 'no-port'], 2, /"no-port" is not host:port/],
    [['registry', 'register', '--endpoint', 'h:1'], 1, /required option '--name <name>' not specified/],
    [
      ['registry', 'list', '--timeout', 'soon'],
      2,
      /--timeout must be a positive number of seconds, not "soon"/,
    ],
  ])('bad input %j exits %i with a one-line reason and changes nothing', async (args, code, message) => {
    const path = newPath();
    const r = await cli(path, ...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect((await store.read(path)).version).toBe(-1);
  });

  describe('entries a cluster manages, marker or not', () => {
    const cluster = 'prod';
    const web = { name: 'web.shop', description: 'Web', endpoints: ['10.0.0.1:80'] };
    const api = { name: 'api.shop', description: 'API', endpoints: ['10.0.0.2:80'] };
    /** A document where a legacy round-trip dropped api's marker, and the cluster's state that owns both. */
    async function managed(path: string) {
      const document = {
        entries: [
          ownedEntry(web, { cluster, service: 'shop/web' }),
          parseDocument(JSON.stringify([api])).entries[0] as never,
          parseDocument('[{"name":"kafka","description":"by hand","endpoints":["k:9092"]}]')
            .entries[0] as never,
        ],
      };
      await put(path, serializeDocument(document));
      const state = {
        services: {},
        tombstones: {},
        owned: {
          'web.shop': { service: 'shop/web', fingerprint: fingerprint(web) },
          'api.shop': { service: 'shop/api', fingerprint: fingerprint(api) },
        },
      };
      await put(syncStatePath(path, cluster), serializeSyncState(state));
    }
    const stateOf = async (path: string) =>
      parseSyncState((await store.read(syncStatePath(path, cluster))).data);

    test('list shows the manager of an entry whose marker was dropped; editing it needs --force', async () => {
      const path = newPath();
      await managed(path);
      const list = await cli(path, 'registry', 'list');
      expect(list.stdout).toMatch(/api\.shop\s+10\.0\.0\.2:80\s+prod:shop\/api\s+API/);
      const refused = await cli(path, 'registry', 'register', '--name', 'api.shop', '--endpoint', 'x:1');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/cluster "prod".*--force/);
    });

    test('adopt makes an entry hand-made, reader fields unchanged, and the state lets it go', async () => {
      const path = newPath();
      await managed(path);
      for (const name of ['web.shop', 'api.shop']) {
        const r = await cli(path, 'registry', 'adopt', '--name', name);
        expect(r).toMatchObject({ code: 0, stderr: '' });
        expect(r.stdout).toMatch(
          new RegExp(`^adopted "${name.replace('.', '\\.')}" .* cluster "prod" no longer manages it`),
        );
      }
      const entries = parseDocument(await text(path)).entries;
      expect(entries.every((e) => e.owner === undefined)).toBe(true);
      expect(entries.map((e) => readerView(e))).toEqual([
        api,
        { name: 'kafka', description: 'by hand', endpoints: ['k:9092'] },
        web,
      ]);
      expect((await stateOf(path)).owned).toEqual({});
      const again = await cli(path, 'registry', 'adopt', '--name', 'kafka');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/"kafka" is already hand-made/);
    });

    test('register --force on a managed entry adopts it first, so the cluster does not revert it', async () => {
      const path = newPath();
      await managed(path);
      const r = await cli(
        path,
        'registry',
        'register',
        '--name',
        'web.shop',
        '--endpoint',
        '10.9.9.9:80',
        '--force',
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/adopted "web\.shop" from cluster "prod"/);
      expect((await stateOf(path)).owned?.['web.shop']).toBeUndefined();
      expect(
        readerView(parseDocument(await text(path)).entries.find((e) => e.name === 'web.shop') as never),
      ).toEqual({
        ...web,
        endpoints: ['10.9.9.9:80'],
      });
    });

    test('register of a name the cluster removed lately makes the cluster forget it, so the entry stays hand-made', async () => {
      const path = newPath();
      await managed(path);
      const released = { 'old.shop': { service: 'shop/old', fingerprint: 'x', at: Date.now() } };
      await put(syncStatePath(path, cluster), serializeSyncState({ ...(await stateOf(path)), released }));
      const r = await cli(
        path,
        'registry',
        'register',
        '--name',
        'old.shop',
        '--endpoint',
        'db.internal:5432',
      );
      expect(r.code).toBe(0);
      expect((await stateOf(path)).released?.['old.shop']).toBeUndefined();
      expect((await stateOf(path)).owned?.['web.shop']).toBeDefined();
    });

    test('purge removes the cluster’s entries, marked or not, and its state; --dry-run removes nothing', async () => {
      const path = newPath();
      await managed(path);
      const before = await text(path);
      const dry = await cli(path, 'registry', 'purge', '--cluster-id', cluster, '--dry-run');
      expect(dry.stdout).toMatch(/- api\.shop\s+10\.0\.0\.2:80\n- web\.shop/);
      expect(dry.stdout).toMatch(/dry run: would remove 2 entries of cluster "prod"/);
      expect(await text(path)).toBe(before);
      const r = await cli(path, 'registry', 'purge', '--cluster-id', cluster);
      expect(r.stdout).toMatch(/removed 2 entries of cluster "prod" from .*, and its sync state/);
      expect(parseDocument(await text(path)).entries.map((e) => e.name)).toEqual(['kafka']);
      expect((await store.read(syncStatePath(path, cluster))).version).toBe(-1);
    });
  });

  test('missing --zk and --path are usage errors', async () => {
    const r = await runCli(['registry', 'list']);
    expect(r).toMatchObject({
      code: 2,
      stderr: 'kube-zk-sync: no ZooKeeper given: pass --zk host:port or set ZK_CONNECT\n',
    });
  });

  test('an unreachable ZooKeeper fails within --timeout', async () => {
    const port = await freePort();
    // The deadline, not the connection attempt, ends the command: it says so, and exits 1. How long that takes is
    // not asserted here (the machine is shared); a command that hangs fails on runCli's own limit.
    const r = await runCli([
      'registry',
      'list',
      '--zk',
      `127.0.0.1:${port}`,
      '--path',
      '/x',
      '--timeout',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `kube-zk-sync: could not connect to ZooKeeper at 127.0.0.1:${port} within 1000 ms\n`,
    );
  });

  test('a corrupt document is reported and never overwritten', async () => {
    const path = newPath();
    await put(path, '{"oops": true}');
    const r = await cli(path, 'registry', 'register', '--name', 'x', '--endpoint', 'h:1');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'kube-zk-sync: the registry document must be a JSON array of services, but it is an object\n',
    );
    expect(await text(path)).toBe('{"oops": true}');
  });

  test('a document over the size limit is refused', async () => {
    const path = newPath();
    // A document 600 bytes under the limit: one more entry with a long description does not fit.
    const filler = (n: number) =>
      JSON.stringify([{ name: 'filler', description: 'x'.repeat(n), endpoints: ['h:1'] }]);
    const big = filler(1_000_000 - 600 - filler(0).length - path.length);
    await put(path, big);
    const r = await cli(
      path,
      'registry',
      'register',
      '--name',
      'one-more',
      '--endpoint',
      'h:1',
      '--description',
      'x'.repeat(1000),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /refusing to write .*: \d+ bytes in one request would exceed the limit of 1000000 bytes/,
    );
    expect(await text(path)).toBe(big);
  });

  test('digest ACL: the writer can edit, everyone can read, others are denied', async () => {
    const path = newPath();
    const writer = ['--auth', 'ops:s3cret'];
    expect(
      (await cli(path, 'registry', 'register', '--name', 'db', '--endpoint', 'db:5432', ...writer)).code,
    ).toBe(0);
    const list = await cli(path, 'registry', 'list', '--json');
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    const denied = await cli(
      path,
      'registry',
      'register',
      '--name',
      'db2',
      '--endpoint',
      'db:5433',
      '--auth',
      'intruder:x',
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/ZooKeeper denied access by the znode's ACL/);
    const anonymous = await cli(path, 'registry', 'deregister', '--name', 'db');
    expect(anonymous.code).toBe(1);
    expect(
      (await cli(path, 'registry', 'register', '--name', 'db2', '--endpoint', 'db:5433', ...writer)).code,
    ).toBe(0);
    expect(JSON.parse(await text(path)).map((e: { name: string }) => e.name)).toEqual(['db', 'db2']);
  });

  test('watch prints one line per version, never a corrupt document, and exits on SIGINT', async () => {
    const path = newPath();
    const watcher = startCli(['registry', 'watch', '--json'], { ZK_CONNECT: zk, REGISTRY_PATH: path });
    try {
      await eventually('the first line', () => watcher.lines.length >= 1);
      expect(JSON.parse(watcher.lines[0] as string)).toMatchObject({ version: -1, entries: [] });
      await cli(path, 'registry', 'register', '--name', 'a', '--endpoint', 'a:1');
      await eventually('version 0', () => watcher.lines.some((l) => JSON.parse(l).version === 0));
      await put(path, 'not json');
      await eventually('the corrupt version reported', () =>
        watcher.errors.some((l) => /version 1: not shown/.test(l)),
      );
      await put(path, '[]');
      await eventually('version 2', () => watcher.lines.some((l) => JSON.parse(l).version === 2));
      const versions = watcher.lines.map((l) => JSON.parse(l).version);
      expect(versions).toEqual([-1, 0, 2]);
      expect(watcher.lines.join('\n')).not.toContain('not json');
    } finally {
      watcher.child.kill('SIGINT');
    }
    const code = await new Promise((resolve) => watcher.child.once('exit', resolve));
    expect(code).toBe(0);
  });

  test('watch names each entry a version adds, changes and removes', async () => {
    const path = newPath();
    await cli(path, 'registry', 'register', '--name', 'kept', '--endpoint', 'k:1');
    const watcher = startCli(['registry', 'watch'], { ZK_CONNECT: zk, REGISTRY_PATH: path });
    try {
      await eventually('the first version', () => watcher.lines.some((l) => / version 0: /.test(l)));
      await cli(path, 'registry', 'register', '--name', 'db', '--endpoint', 'db:5432');
      await eventually('the addition', () => watcher.lines.includes('  + db  db:5432'));
      await cli(path, 'registry', 'register', '--name', 'db', '--endpoint', 'db:5433');
      await eventually('the change', () => watcher.lines.includes('  ~ db  db:5433'));
      await cli(path, 'registry', 'deregister', '--name', 'db');
      await eventually('the removal', () => watcher.lines.includes('  - db  db:5433'));
      expect(watcher.lines.filter((l) => l.startsWith('  '))).toEqual([
        '  + db  db:5432',
        '  ~ db  db:5433',
        '  - db  db:5433',
      ]);
    } finally {
      watcher.child.kill('SIGINT');
    }
  });
});
