// Real kubectl for the tests: found on the PATH (or at KUBECTL), run with a throwaway kubeconfig and discovery cache
// so nothing lands in ~/.kube. `npm test` runs infra/ensure-kubectl.sh first, which installs it when it can.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeconfigFor } from '../../lib/local/apiserver/index.ts';

let found: string | undefined;

/**
 * Every kubectl the compatibility tests run: kubectlBin(), and the binaries listed in KUBECTL_ALSO (separated by
 * `:`), e.g. an older client unpacked beside the newer one to check both against the simulator.
 */
export function kubectlBinaries(): string[] {
  const also = (process.env.KUBECTL_ALSO ?? '').split(':').filter((p) => p !== '' && existsSync(p));
  return [...new Set([kubectlBin(), ...also])];
}

/** The kubectl to run: KUBECTL if set, else `kubectl` from the PATH; throws saying how to get it when it does not run. */
export function kubectlBin(): string {
  if (found) return found;
  const bin = process.env.KUBECTL || 'kubectl';
  const probe = spawnSync(bin, ['version', '--client'], { timeout: 20_000, encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `kubectl is required by these tests and "${bin}" did not run (${probe.error?.message ?? probe.stderr.trim()}): ` +
        "run 'bash infra/ensure-kubectl.sh' (as root on Debian it installs kubernetes-client), install kubectl " +
        '(https://kubernetes.io/docs/tasks/tools/) or set KUBECTL to its path.',
    );
  }
  found = bin;
  return bin;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl pointed at one server, in a temporary folder it owns; `close()` removes the folder. */
export interface Kubectl {
  /** Runs kubectl with `args`; resolves with the exit code and output (never rejects on a non-zero exit). */
  run(
    args: readonly string[],
    options?: { env?: Record<string, string>; bin?: string },
  ): Promise<KubectlResult>;
  /** Starts a kubectl that keeps running (`get -w`): its output so far, and stop() to end it. */
  start(args: readonly string[]): RunningKubectl;
  /** Like run, but rejects with the stderr when kubectl fails; resolves with stdout. */
  ok(...args: string[]): Promise<string>;
  /** The folder for the test's own files (manifests), removed by close(). */
  readonly dir: string;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export interface RunningKubectl {
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Ends it (SIGTERM) and resolves once it has exited. */
  stop(): Promise<void>;
}

/** kubectl (`options.bin`, else kubectlBin()) with a kubeconfig for `server` in a temporary folder. */
export async function kubectlFor(
  server: string,
  options: { timeoutMs?: number; bin?: string } = {},
): Promise<Kubectl> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigFor(server), { mode: 0o600 });
  const timeout = options.timeoutMs ?? 30_000;
  const argv = (args: readonly string[]) => kubectlArgs(kubeconfig, dir, args);
  const env = (extra?: Record<string, string>) => ({
    ...process.env,
    KUBECONFIG: kubeconfig,
    HOME: dir,
    ...extra,
  });
  const run: Kubectl['run'] = (args, opts = {}) =>
    new Promise((resolve) => {
      execFile(
        opts.bin ?? options.bin ?? kubectlBin(),
        argv(args),
        { timeout, env: env(opts.env) },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const start: Kubectl['start'] = (args) => {
    // Ended by stop(), or by the same deadline as run's so that a forgotten one cannot outlive the test.
    const child = spawn(options.bin ?? kubectlBin(), argv(args), { env: env(), timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    return {
      stdout: () => stdout,
      stderr: () => stderr,
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      },
    };
  };
  return {
    dir,
    kubeconfig,
    run,
    start,
    async ok(...args) {
      const r = await run(args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The client's minor version (`20` for 1.20), from `kubectl version --client -o json`. */
export function kubectlMinor(bin = kubectlBin()): number {
  const probe = spawnSync(bin, ['version', '--client', '-o', 'json'], { timeout: 20_000, encoding: 'utf8' });
  const minor = (JSON.parse(probe.stdout) as { clientVersion: { minor: string } }).clientVersion.minor;
  return Number.parseInt(minor, 10);
}

/** Runs kubectl without a server (`kustomize`, `version --client`). */
export async function kubectlOffline(args: readonly string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await promisify(execFile)(kubectlBin(), args, { timeout: timeoutMs });
  return stdout;
}

/** Arguments that point kubectl at `kubeconfig`, with its discovery cache under `dir` so nothing lands in ~/.kube. */
export function kubectlArgs(kubeconfig: string, dir: string, args: readonly string[]): string[] {
  return ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args];
}

/** Runs kubectl with an existing kubeconfig and returns its stdout; a non-zero exit rejects with stderr in the error. */
export async function kubectl(kubeconfig: string, dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(kubectlBin(), kubectlArgs(kubeconfig, dir, args), {
    timeout: 30_000,
  });
  return stdout;
}
