// Real kubectl for tests: found once (KUBECTL or the PATH), run with a kubeconfig and a throwaway discovery cache.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
let found: string | undefined;

/** kubectl is part of what is tested: without it each test that needs it fails and says how to get it. */
export function kubectlBin(): string {
  if (found) return found;
  const bin = process.env.KUBECTL ?? 'kubectl';
  const probe = spawnSync(bin, ['version', '--client'], { timeout: 20_000, encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `kubectl is required by these tests and "${bin}" did not run (${probe.error?.message ?? probe.stderr.trim()}): ` +
        'install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL to its path.',
    );
  }
  found = bin;
  return bin;
}

/** Arguments that point kubectl at `kubeconfig`, with its discovery cache under `dir` so nothing lands in ~/.kube. */
export function kubectlArgs(kubeconfig: string, dir: string, args: readonly string[]): string[] {
  return ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args];
}

/** Runs kubectl and returns its stdout; a non-zero exit rejects with stderr in the error. */
export async function kubectl(kubeconfig: string, dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(kubectlBin(), kubectlArgs(kubeconfig, dir, args), { timeout: 30_000 });
  return stdout;
}
