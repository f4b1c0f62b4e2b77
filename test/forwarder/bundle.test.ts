// The bundle the container image copies: built with esbuild into a directory with no node_modules in reach, run by
// plain Node 22 against the simulator and the local EventBridge. If a dependency slipped out of the bundle, or needs
// a file beside it, this is where it shows.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildForwarder } from '../../infra/forwarder/build.ts';
import { eventually } from '../support/cli.ts';
import { spawnForwarderBundle } from '../support/forwarder-bundle.ts';
import { expectConverged, Rig } from './rig.ts';

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-bundle-'));
  bundle = join(dir, 'forwarder.mjs');
  await buildForwarder(bundle);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dist/forwarder.mjs', () => {
  test('is one file of a few MiB', async () => {
    const { size } = await stat(bundle);
    expect(size).toBeGreaterThan(100_000);
    expect(size).toBeLessThan(10 * 1024 * 1024);
  });

  test('runs alone (no node_modules) and forwards the cluster to EventBridge, then stops on SIGTERM', async () => {
    const rig = await Rig.start({ services: 100, seed: 41 });
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await rig.sim.writeKubeconfig(kubeconfig);
      const config = rig.bridge.clientConfig();
      const { child, stdout, stderr } = spawnForwarderBundle(bundle, {
        kubeconfig,
        clusterId: 'bundle-test',
        eventBridge: config,
        cwd: dir,
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await eventually('the bundle to list', () => {
        if (child.exitCode !== null) throw new Error(`the bundle exited ${child.exitCode}: ${stderr()}`);
        return stdout().includes('"listed Services"');
      });
      await expectConverged(rig.consumer, rig.sim);
      const [first] = rig.sim.listServices();
      if (!first) throw new Error('no Service');
      rig.sim.deleteService(first.metadata.namespace, first.metadata.name);
      await expectConverged(rig.consumer, rig.sim);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr()).toBe('');
    } finally {
      await rig.stop();
    }
  });
});
