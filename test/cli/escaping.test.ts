// What the CLI prints from the document is shown, never executed by the terminal: a hand-written entry with escape
// sequences prints as visible escapes in every form (table, JSON, watch), and register refuses such text.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually, registryCli, startCli } from '../support/cli.ts';
import { raw } from '../support/terminal.ts';

const zk = inject('zkConnect');
const store = new ZkStore({ openAcl: true, connectString: zk });
afterAll(() => store.close());

const newPath = () => `/cli-escaping/${randomUUID()}/services`;
const cli = registryCli(zk);

// Written by hand (or by another writer) straight into ZooKeeper: an ESC sequence that clears the screen and recolours,
// the 8-bit CSI, a forged second line, a right-to-left override, in the description, the name and an endpoint.
const HOSTILE = JSON.stringify([
  {
    name: 'evil\u001b[2Jname',
    description: 'Kafka\u001b[31m brokers\u009b1m\nkube-zk-sync: all good\u202eevil',
    endpoints: ['k1.internal:9092\u0007'],
    owner_team: '\u001b]0;pwned\u0007',
  },
]);

describe('the CLI prints text from the document escaped', () => {
  test('list and get: the table and the JSON show \\u escapes, and the JSON still means the same text', async () => {
    const path = newPath();
    await store.update([path], () => ({ data: [Buffer.from(HOSTILE)], result: 0 }));

    const table = await cli(path, 'registry', 'list');
    expect(table.code).toBe(0);
    expect(raw(table.stdout)).toEqual([]);
    expect(table.stdout).toContain('evil\\u001b[2Jname');
    expect(table.stdout).toContain(
      'Kafka\\u001b[31m brokers\\u009b1m\\u000akube-zk-sync: all good\\u202eevil',
    );
    expect(table.stdout).toContain('k1.internal:9092\\u0007');
    // One line per entry, under the header: the forged line break did not make a second one.
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2);

    const json = await cli(path, 'registry', 'list', '--json');
    expect(raw(json.stdout)).toEqual([]);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(HOSTILE));

    const get = await cli(path, 'registry', 'get', '--name', 'evil\u001b[2Jname');
    expect(get.code).toBe(0);
    expect(raw(get.stdout)).toEqual([]);
    expect(get.stdout).toContain('\\u202eevil');
    const getJson = await cli(path, 'registry', 'get', '--name', 'evil\u001b[2Jname', '--json');
    expect(raw(getJson.stdout)).toEqual([]);
    expect(JSON.parse(getJson.stdout)).toEqual(JSON.parse(HOSTILE)[0]);
  });

  test('watch --json prints each version escaped', async () => {
    const path = newPath();
    await store.update([path], () => ({ data: [Buffer.from(HOSTILE)], result: 0 }));
    const watcher = startCli(['registry', 'watch', '--json'], { ZK_CONNECT: zk, REGISTRY_PATH: path });
    try {
      await eventually('the first version', () => watcher.lines.length >= 1);
      const line = watcher.lines[0] as string;
      expect(raw(line)).toEqual([]);
      expect(JSON.parse(line).entries).toEqual(JSON.parse(HOSTILE));
    } finally {
      watcher.child.kill('SIGINT');
    }
  });

  test('an error that quotes the document is escaped too', async () => {
    const path = newPath();
    await store.update([path], () => ({ data: [Buffer.from(HOSTILE)], result: 0 }));
    const r = await cli(path, 'registry', 'deregister', '--name', 'evil\u001b[2Jname\u009b');
    expect(r.code).toBe(1);
    expect(raw(r.stderr)).toEqual([]);
    expect(r.stderr).toContain('no entry named "evil\\u001b[2Jname\\u009b"');
  });
});

describe('register refuses control characters', () => {
  test.each([
    ['a terminal escape in the description', ['--description', 'Kafka\u001b[31m'], 'U+001B'],
    ['the 8-bit CSI in the description', ['--description', 'Kafka\u009b31m'], 'U+009B'],
    ['a line break in the description', ['--description', 'Kafka\nforged line'], 'U+000A'],
    ['a right-to-left override in the description', ['--description', 'Kafka\u202ekcatta'], 'U+202E'],
    ['a line separator in the description', ['--description', 'Kafka\u2028x'], 'U+2028'],
    ['DEL in the description', ['--description', 'Kafka\u007f'], 'U+007F'],
    ['a bell in an endpoint', ['--endpoint', 'k2.internal:9092\u0007'], 'U+0007'],
  ])('%s: a usage error that names it, escaped; nothing written', async (_, extra, codePoint) => {
    const path = newPath();
    const r = await cli(
      path,
      'registry',
      'register',
      '--name',
      'kafka',
      '--endpoint',
      'k1.internal:9092',
      ...extra,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('contains control characters');
    expect(r.stderr).toContain(codePoint);
    expect(raw(r.stderr)).toEqual([]);
    expect((await store.read(path)).version).toBe(-1);
  });

  test('in the name: refused, and the message does not replay the escape', async () => {
    const path = newPath();
    const r = await cli(path, 'registry', 'register', '--name', 'kafka\u001b[2J', '--endpoint', 'k1:9092');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the name "kafka\\u001b[2J" contains control characters (U+001B)');
    expect(raw(r.stderr)).toEqual([]);
  });
});
