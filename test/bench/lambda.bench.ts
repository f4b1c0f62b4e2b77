// The Lambda bundles as `serverless package` builds them: size of each function's .mjs (and its zip), and the cold
// initialisation on Node 22, i.e. a fresh process importing the bundle, which is what Lambda's Init phase does.
//   node test/bench/lambda.bench.ts [--quick]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BenchSuite, type Metric, median, round } from './harness.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** What the handlers read at cold start (they refuse to load without it). */
const COLD_START_ENV = {
  ZK_CONNECT: 'zk.internal:2181',
  REGISTRY_PATH: '/registry/services',
  CLUSTER_ID: 'bench',
};

/** Milliseconds from the start of `import()` to the handler module being evaluated, in a fresh Node process. */
async function importMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...COLD_START_ENV },
  });
  return Number(stdout.trim());
}

export const lambdaSuite: BenchSuite = {
  name: 'lambda',
  async run({ quick }): Promise<Metric[]> {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-bundles-'));
    try {
      await run(
        process.execPath,
        [join(root, 'node_modules/osls/bin/serverless.js'), 'package', '--package', dir],
        {
          cwd: root,
          env: { PATH: process.env.PATH, HOME: dir },
        },
      );
      const metrics: Metric[] = [];
      for (const fn of ['sync', 'reconcile']) {
        await run('unzip', ['-q', join(dir, `${fn}.zip`), '-d', join(dir, fn)]);
        const bundle = join(dir, fn, 'functions', `${fn}.mjs`);
        const times: number[] = [];
        for (let i = 0; i < (quick ? 5 : 15); i++) times.push(await importMs(bundle));
        metrics.push(
          {
            metric: `${fn}_bundle_kb`,
            value: Math.round((await stat(bundle)).size / 1024),
            unit: 'KB',
            note: `functions/${fn}.mjs (zip ${Math.round((await stat(join(dir, `${fn}.zip`))).size / 1024)} KB)`,
          },
          {
            metric: `${fn}_init_ms`,
            value: round(median(times)),
            unit: 'ms',
            note: `median of ${times.length} fresh processes importing the bundle (Node ${process.versions.node})`,
          },
        );
      }
      return metrics;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

if (import.meta.filename === process.argv[1]) {
  const { runStandalone } = await import('./standalone.ts');
  await runStandalone([lambdaSuite]);
}
