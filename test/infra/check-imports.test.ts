// The import-direction check that `npm run lint` runs: each rule fails on the import it forbids (fixtures, and a
// throwaway tree run through the command as lint runs it), allows what the layout allows, and passes on this tree.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { checkImports, describeViolation, importViolations } from '../../infra/check-imports.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'infra/check-imports.ts');

const TEST = 'product code (lib/, functions/) must not import test/';
const FUNCTIONS = 'only lib/cli/ may import functions/';
const CLI = 'lib/cli/ is the top floor: nothing in lib/ or functions/ imports it';
const LOCAL = 'only lib/cli/ may import lib/local/ (the local world)';

describe('importViolations', () => {
  test.each([
    ['lib/cli/commands/dev.ts', "import { x } from '../../../test/support/cli.ts';", TEST],
    ['lib/local/queue.ts', "import type { X } from '../../test/support/cli.ts';", TEST],
    ['functions/sync.ts', "export { x } from '../test/sync/fixtures.ts';", TEST],
    ['lib/zk/store.ts', "const m = await import('../../test/support/tcp-proxy.ts');", TEST],
    ['lib/zk/store.ts', "import '../../test';", TEST],
    ['lib/zk/store.ts', "import { x } from '../kube/../../test/x.ts';", TEST],
    [
      'lib/local/zookeeper.ts',
      "import { createSyncHandler } from '../../functions/sync-handler.ts';",
      FUNCTIONS,
    ],
    ['lib/reconcile/reconcile.ts', "import { runCli } from '../cli/run.ts';", CLI],
    ['lib/local/apiserver/index.ts', "export * from '../../cli/local-pipeline.ts';", CLI],
    ['functions/reconcile.ts', "import { runCli } from '../lib/cli/run.ts';", CLI],
    ['lib/mirror/mirror.ts', "import { ApiServerSimulator } from '../local/apiserver/index.ts';", LOCAL],
    ['functions/sync-handler.ts', "import { LocalQueue } from '../lib/local/queue.ts';", LOCAL],
  ])('%s: %s breaks "%s"', (file, text, rule) => {
    expect(importViolations(file, `// a comment\n${text}\n`)).toEqual([
      { file, line: 2, specifier: expect.any(String), rule },
    ]);
  });

  test.each([
    ['lib/cli/local-pipeline.ts', "import { createSyncHandler } from '../../functions/sync-handler.ts';"],
    ['lib/cli/commands/dev.ts', "import { LocalPipeline } from '../local-pipeline.ts';"],
    ['lib/cli/local-pipeline.ts', "import { LocalQueue } from '../local/queue.ts';"],
    ['lib/local/apiserver/simulator.ts', "import { seededRandom } from '../random.ts';"],
    ['functions/sync.ts', "import { syncBatch } from '../lib/sync/batch.ts';"],
    ['lib/local/queue.ts', "import type { SQSRecord } from 'aws-lambda';"],
    ['lib/kube/list.ts', "import { x } from './testing.ts';"],
    ['test/e2e/pipeline.test.ts', "import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';"],
    ['infra/forwarder/build.ts', "import { x } from '../../test/support/cli.ts';"],
    ['lib/zk/store.ts', "// import { x } from '../../test/support/cli.ts';"],
    ['lib/zk/store.ts', 'const hint = "import(\'../../test/support/cli.ts\')";'],
  ])('%s: %s is allowed', (file, text) => {
    expect(importViolations(file, text)).toEqual([]);
  });

  test('one import may break two rules, and each breach names its line', () => {
    const text =
      "import a from 'node:fs';\n\nimport b from '../cli/run.ts';\nimport c from '../../functions/x.ts';\n";
    expect(importViolations('lib/forwarder/x.ts', text).map(describeViolation)).toEqual([
      `lib/forwarder/x.ts:3: imports '../cli/run.ts': ${CLI}`,
      `lib/forwarder/x.ts:4: imports '../../functions/x.ts': ${FUNCTIONS}`,
    ]);
  });
});

describe('the command', () => {
  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-imports-'));
    for (const [path, text] of Object.entries({ 'lib/.keep.ts': '', 'functions/.keep.ts': '', ...files })) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }
  const run = (dir: string) =>
    promisify(execFile)(process.execPath, [script, dir]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );

  test('fails on a product import of test/, naming the file and line; passes once it is gone', async () => {
    const dir = await tree({
      'lib/zk/store.ts': "import { a } from './paths.ts';\nimport { b } from '../../test/support/cli.ts';\n",
      'lib/zk/paths.ts': 'export const a = 1;\n',
    });
    try {
      const bad = await run(dir);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe(`lib/zk/store.ts:2: imports '../../test/support/cli.ts': ${TEST}\n`);
      await writeFile(join(dir, 'lib/zk/store.ts'), "import { a } from './paths.ts';\n");
      expect(await run(dir)).toEqual({ code: 0, stderr: '' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('this repository keeps every rule', async () => {
    expect((await checkImports(root)).map(describeViolation)).toEqual([]);
  });
});
