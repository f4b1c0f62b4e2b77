// Runs the real `kube-zk-sync` command in a child process, as a person would.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command to completion (Node 22 is the one running the tests). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ZK_CONNECT: '', REGISTRY_PATH: '', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * The command on the registry document at a path of the local ZooKeeper `zk`, which has no credentials: the
 * documents the command creates are open, as asked.
 */
export const registryCli =
  (zk: string) =>
  (path: string, ...args: string[]): Promise<CliResult> =>
    runCli(args, { ZK_CONNECT: zk, REGISTRY_PATH: path, ZK_OPEN_ACL: 'true' });

/** Starts a long-running command; `lines` collects its stdout lines as they come. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; lines: string[]; errors: string[] } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const errors: string[] = [];
  const collect = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      into.push(...parts);
    };
  };
  child.stdout?.on('data', collect(lines));
  child.stderr?.on('data', collect(errors));
  return { child, lines, errors };
}

/** Polls `check` until it holds; fails with `what` after the deadline. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
