// `npm run bench [-- --quick] [-- --only NAME]`: runs the benchmark suites against a real ZooKeeper it starts.
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import { documentSuite } from './document.bench.ts';
import { forwarderSuite } from './forwarder.bench.ts';
import type { BenchSuite, Metric } from './harness.ts';
import { lambdaSuite } from './lambda.bench.ts';
import { mirrorSuite } from './mirror.bench.ts';
import { pipelineSuite } from './pipeline.bench.ts';
import { stateSuite } from './state.bench.ts';
import { syncSuite } from './sync.bench.ts';
import { zkSuite } from './zk.bench.ts';

const suites: BenchSuite[] = [
  documentSuite,
  zkSuite,
  syncSuite,
  stateSuite,
  pipelineSuite,
  forwarderSuite,
  lambdaSuite,
  mirrorSuite,
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]?.split(',') : undefined;

const existing = process.env.ZK_CONNECT;
const cluster = existing ? undefined : await ZooKeeperCluster.start();
const zkConnect = existing ?? (cluster as ZooKeeperCluster).connectString;
const results: Metric[] = [];
let failed = false;
try {
  for (const suite of suites) {
    if (only && !only.includes(suite.name)) continue;
    try {
      for (const metric of await suite.run({ quick, zkConnect })) {
        results.push(metric);
        process.stdout.write(
          `${JSON.stringify({ metric: metric.metric, value: metric.value, unit: metric.unit })}\n`,
        );
      }
    } catch (error) {
      failed = true;
      process.stderr.write(`bench: suite ${suite.name} failed: ${(error as Error).stack ?? error}\n`);
    }
  }
} finally {
  await cluster?.destroy();
}

const rows = [
  ['metric', 'value', 'unit', 'note'],
  ...results.map((m) => [m.metric, String(m.value), m.unit, m.note ?? '']),
];
const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
process.stdout.write(
  `\n${rows.map((r) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`).join('\n')}\n`,
);
process.exitCode = failed ? 1 : 0;
