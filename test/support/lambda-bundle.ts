// The Lambda functions as `serverless package` builds them, offline with no AWS account, each zip unpacked; and a
// fresh Node process standing in for the nodejs22.x runtime (lambda-runtime.ts), which loads a handler from that
// zip alone and tells which files it loaded at Init and at the invocation.
import { execFile } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

export const LAMBDA_FUNCTIONS = ['sync', 'reconcile'] as const;
export type LambdaFunction = (typeof LAMBDA_FUNCTIONS)[number];

/** What the handlers read at cold start (they refuse to load without it): no credentials, no AWS. */
export const COLD_START_ENV: Readonly<Record<string, string>> = {
  ZK_CONNECT: 'zk.internal:2181',
  REGISTRY_PATH: '/registry/services',
  CLUSTER_ID: 'bench',
};

export interface PackagedFunction {
  readonly zip: string;
  /** Where the zip is unpacked: the function's /var/task. */
  readonly root: string;
  /** The handler file, `functions/<name>.mjs`. */
  readonly entry: string;
  /** Every file of the zip, absolute. */
  readonly files: readonly string[];
}

export interface PackagedService {
  /** The `--package` folder: the CloudFormation templates and the zips. */
  readonly artifacts: string;
  readonly functions: Readonly<Record<LambdaFunction, PackagedFunction>>;
}

/**
 * `serverless package` into `dir`/artifacts, with a HOME in `dir` and no AWS credentials, and `params` given as
 * `--param` (serverless.yml's defaults otherwise); the zips unpacked.
 */
export async function packageService(
  dir: string,
  params: Readonly<Record<string, string>> = {},
): Promise<PackagedService> {
  const artifacts = join(dir, 'artifacts');
  await run(
    process.execPath,
    [
      join(root, 'node_modules/osls/bin/serverless.js'),
      'package',
      '--package',
      artifacts,
      ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
    ],
    {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: dir, NO_UPDATE_NOTIFIER: '1' },
      timeout: 170_000,
    },
  );
  const unpack = async (name: LambdaFunction): Promise<PackagedFunction> => {
    const zip = join(artifacts, `${name}.zip`);
    const task = join(dir, 'task', name);
    await mkdir(task, { recursive: true });
    await run('unzip', ['-q', zip, '-d', task]);
    const entries = await readdir(task, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    return { zip, root: task, entry: join(task, 'functions', `${name}.mjs`), files: files.sort() };
  };
  const unpacked = await Promise.all(LAMBDA_FUNCTIONS.map(async (name) => [name, await unpack(name)]));
  return { artifacts, functions: Object.fromEntries(unpacked) as PackagedService['functions'] };
}

export interface RuntimeReport {
  /** Each file imported, in order: its export names, and the files Node loaded for it (itself included). */
  readonly modules: ReadonlyArray<{ file: string; exports: string[]; loaded: string[] }>;
  /** With an event: what the first file's handler returned, and the files Node loaded while it ran. */
  readonly invoked?: { result: unknown; loaded: string[] };
}

/**
 * Imports `files` in a fresh Node process that has only `env` (and PATH), recording what each import loads, then,
 * given an event, invokes the first file's handler. What a Lambda's Init phase parses is `modules[0].loaded`.
 */
export async function inLambdaRuntime(
  files: readonly string[],
  options: { readonly env: Readonly<Record<string, string>>; readonly event?: unknown },
): Promise<RuntimeReport> {
  const event = options.event === undefined ? [] : ['--event', JSON.stringify(options.event)];
  const { stdout } = await run(
    process.execPath,
    [join(root, 'test/support/lambda-runtime.ts'), ...event, ...files],
    { env: { PATH: process.env.PATH, ...options.env }, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
  );
  // The handler logs on stdout too; the report is the last line.
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as RuntimeReport;
}

/** Total size of `files`, in bytes. */
export async function bytesOf(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  return sizes.reduce((a, b) => a + b, 0);
}
