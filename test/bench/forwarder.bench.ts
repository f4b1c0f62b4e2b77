// The forwarder's throughput and memory, measured on the bundle the image runs (dist/forwarder.mjs, built here into a
// temporary directory) in a child process, so the memory figure is the forwarder's own and not the simulator's:
// - forwarder_events_per_s: a cold start on 10,000 published Services (13,000 Services in all, with the ClusterIP
//   and pending ones), from the first event accepted by the local EventBridge to the last;
// - forwarder_watch_events_per_s: a burst of updates seen on the watch, through to the endpoint;
// - forwarder_rss_mb_10k: resident memory of the forwarder with those Services while EventBridge throttles every call
//   and the cluster keeps changing, so every Service sits in the outbox (its worst case).
// Run alone with `node test/bench/forwarder.bench.ts [--quick]`, or as the `forwarder` suite of `npm run bench`.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildForwarder } from '../../infra/forwarder/build.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../lib/events/contract.ts';
import { ApiServerSimulator, generateServices } from '../../lib/local/apiserver/index.ts';
import { LocalEventBridge } from '../../lib/local/eventbridge/server.ts';
import { spawnForwarderBundle } from '../support/forwarder-bundle.ts';
import { type BenchSuite, type Metric, round } from './harness.ts';

const SERVICES = 10_000;

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

interface Rig {
  sim: ApiServerSimulator;
  bridge: LocalEventBridge;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

async function startRig(bundle: string, dir: string, services: number): Promise<Rig> {
  const sim = new ApiServerSimulator({ bookmarkIntervalMs: 5000 });
  for (const input of generateServices(services, { seed: 7 })) sim.createService(input);
  await sim.start();
  const bridge = await LocalEventBridge.start({
    seed: 7,
    rules: [
      { name: 'ServiceEvents', pattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] } },
    ],
  });
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  const config = bridge.clientConfig();
  const { child, stdout, stderr } = spawnForwarderBundle(bundle, {
    kubeconfig,
    clusterId: 'bench',
    eventBridge: config,
    cwd: dir,
    args: ['--log-level', 'warn'],
  });
  return {
    sim,
    bridge,
    child,
    output: () => stdout() + stderr(),
    async stop() {
      child.kill('SIGKILL');
      await bridge.stop();
      await sim.stop();
    },
  };
}

/** Changes `count` Services' labels, a slice at a time so the watch keeps delivering. */
async function update(sim: ApiServerSimulator, count: number, tag: string): Promise<void> {
  const all = sim.listServices();
  for (let i = 0; i < count; i++) {
    const s = all[i % all.length];
    if (!s) continue;
    sim.updateService(s.metadata.namespace, s.metadata.name, (d) => {
      d.metadata.labels = { ...d.metadata.labels, bench: `${tag}-${i}` };
    });
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
}

export const forwarderSuite: BenchSuite = {
  name: 'forwarder',
  async run({ quick }) {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-bench-'));
    const metrics: Metric[] = [];
    try {
      const bundle = join(dir, 'forwarder.mjs');
      await buildForwarder(bundle);

      // Throughput: a cold start, then a burst of watched updates, EventBridge healthy.
      const fast = await startRig(bundle, dir, SERVICES);
      try {
        const total = fast.sim.listServices().length;
        let firstAt = 0;
        let lastAt = 0;
        fast.bridge.subscribe(() => {
          lastAt = performance.now();
          if (firstAt === 0) firstAt = lastAt;
        });
        const delivered = () => fast.bridge.deliveries.length;
        await until(`${total} deliveries`, () => delivered() >= total, 60_000);
        metrics.push({
          metric: 'forwarder_events_per_s',
          value: round(total / ((lastAt - firstAt) / 1000), 0),
          unit: 'events/s',
          note: `cold start: ${total} Services listed and sent to the local EventBridge`,
        });
        const updates = quick ? 5000 : 20_000;
        const before = delivered();
        const started = performance.now();
        await update(fast.sim, updates, 'burst');
        // Coalescing may merge updates of one Service; the cluster's last change arriving is the end of the burst.
        const last = fast.sim.resourceVersion;
        await until(
          'the last update to arrive',
          () =>
            fast.bridge.deliveries.some(
              (d) => (d.event.detail as { resourceVersion: string }).resourceVersion === last,
            ),
          60_000,
        );
        const seconds = (performance.now() - started) / 1000;
        metrics.push({
          metric: 'forwarder_watch_events_per_s',
          value: round(updates / seconds, 0),
          unit: 'changes/s',
          note: `${updates} updates on the watch; ${delivered() - before} events sent (coalesced per Service)`,
        });
      } finally {
        await fast.stop();
      }

      // Memory: the same cluster, EventBridge throttling every call, changes still coming.
      const throttled = await startRig(bundle, dir, SERVICES);
      try {
        throttled.bridge.setFaults({ throttleRate: 1 });
        const pid = throttled.child.pid as number;
        await until('the first list', () => throttled.bridge.calls.length > 0, 30_000);
        const updates = quick ? 10_000 : 50_000;
        let peak = 0;
        const sampler = setInterval(() => {
          memoryOf(pid).then(
            (m) => {
              peak = Math.max(peak, m.rss);
            },
            () => {},
          );
        }, 100);
        await update(throttled.sim, updates, 'throttled');
        // Let the watch catch up and the heap settle under a steady outbox.
        await new Promise((r) => setTimeout(r, quick ? 2000 : 5000));
        clearInterval(sampler);
        const now = await memoryOf(pid);
        if (throttled.bridge.deliveries.length > 0)
          throw new Error('EventBridge accepted events while throttling');
        metrics.push({
          metric: 'forwarder_rss_mb_10k',
          value: round(now.rss, 1),
          unit: 'MiB',
          note: `${throttled.sim.listServices().length} Services all pending, ${updates} changes, every call throttled`,
        });
        metrics.push({
          metric: 'forwarder_rss_peak_mb_10k',
          value: round(Math.max(peak, now.peak), 1),
          unit: 'MiB',
          note: 'peak resident memory (VmHWM) over the same run',
        });
      } finally {
        await throttled.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return metrics;
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const started = performance.now();
  for (const m of await forwarderSuite.run({ quick, zkConnect: '' })) {
    process.stdout.write(
      `${JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit })}  # ${m.note ?? ''}\n`,
    );
  }
  process.stdout.write(`# ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
