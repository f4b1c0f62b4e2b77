// Runs benchmark suites on their own (`node test/bench/<suite>.bench.ts [--quick]`): a ZooKeeper of their own unless
// ZK_CONNECT names one, one JSON line per metric, as `npm run bench` prints them.
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import type { BenchSuite } from './harness.ts';

export async function runStandalone(suites: readonly BenchSuite[]): Promise<void> {
  const quick = process.argv.includes('--quick');
  const existing = process.env.ZK_CONNECT;
  const cluster = existing ? undefined : await ZooKeeperCluster.start();
  try {
    for (const suite of suites) {
      for (const m of await suite.run({
        quick,
        zkConnect: existing ?? (cluster as ZooKeeperCluster).connectString,
      })) {
        process.stdout.write(
          `${JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit })}${m.note ? `  # ${m.note}` : ''}\n`,
        );
      }
    }
  } finally {
    await cluster?.destroy();
  }
}
