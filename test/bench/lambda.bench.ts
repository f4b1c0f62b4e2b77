// The Lambda functions as `serverless package` builds them: the code each one parses at cold start (its entry and the
// chunks that entry imports; what it imports with import() waits until called), its zip, and the cold
// initialisation on Node 22, i.e. a fresh process importing the handler file, which is what Lambda's Init phase
// does. The baseline, timed in the same run, is the same entry bundled as one file (serverless.yml's esbuild
// options without splitting), where the credential clients and the AWS credential chain are parsed at every cold
// start.
//   node test/bench/lambda.bench.ts [--quick]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { parse } from 'yaml';
import {
  bytesOf,
  COLD_START_ENV,
  inLambdaRuntime,
  LAMBDA_FUNCTIONS,
  type LambdaFunction,
  packageService,
} from '../support/lambda-bundle.ts';
import { type BenchSuite, type Metric, median, round } from './harness.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const kb = (bytes: number) => Math.round(bytes / 1024);

/** Milliseconds from the start of `import()` to the handler module being evaluated, in a fresh Node process. */
async function importMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...COLD_START_ENV },
  });
  return Number(stdout.trim());
}

/** The entry bundled as one file with serverless.yml's esbuild options, splitting off. */
async function oneFileBundle(name: LambdaFunction, dir: string): Promise<string> {
  // Only `custom` is read: the CloudFormation tags elsewhere in the file may stay unresolved.
  const { custom } = parse(await readFile(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' });
  // serverless-esbuild's own settings, not esbuild's.
  const { exclude, outputFileExtension, plugins, splitting, ...options } = custom.esbuild;
  const outfile = join(dir, `${name}.one-file.mjs`);
  await build({
    ...options,
    entryPoints: [join(root, 'functions', `${name}.ts`)],
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

export const lambdaSuite: BenchSuite = {
  name: 'lambda',
  async run({ quick }): Promise<Metric[]> {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-bundles-'));
    try {
      const { functions } = await packageService(dir);
      const metrics: Metric[] = [];
      for (const name of LAMBDA_FUNCTIONS) {
        const fn = functions[name];
        const [init] = (await inLambdaRuntime([fn.entry], { env: COLD_START_ENV })).modules;
        const parsed = init?.loaded ?? [];
        const oneFile = await oneFileBundle(name, dir);
        // Interleaved, so that the load of a shared machine weighs on both alike.
        const times: number[] = [];
        const baseline: number[] = [];
        for (let i = 0; i < (quick ? 5 : 15); i++) {
          times.push(await importMs(fn.entry));
          baseline.push(await importMs(oneFile));
        }
        const entry = relative(fn.root, fn.entry);
        metrics.push(
          {
            metric: `${name}_bundle_kb`,
            value: kb(await bytesOf(parsed)),
            unit: 'KB',
            note: `${entry} + ${parsed.length - 1} chunks it imports (one file: ${kb((await stat(oneFile)).size)} KB)`,
          },
          {
            metric: `${name}_zip_kb`,
            value: kb((await stat(fn.zip)).size),
            unit: 'KB',
            note: `${fn.files.length} files, ${kb(await bytesOf(fn.files))} KB unpacked`,
          },
          {
            metric: `${name}_init_ms`,
            value: round(median(times)),
            unit: 'ms',
            note: `median of ${times.length} fresh processes importing the entry (Node ${process.versions.node})`,
          },
          {
            metric: `${name}_init_one_file_ms`,
            value: round(median(baseline)),
            unit: 'ms',
            note: 'the same, importing the entry bundled as one file (baseline)',
          },
          {
            metric: `${name}_init_over_one_file`,
            value: round(median(times) / median(baseline)),
            unit: 'ratio',
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
