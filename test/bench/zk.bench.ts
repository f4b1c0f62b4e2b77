// One compare-and-set update through ZkStore next to one bare setData of the same bytes, on the same server.
import { randomUUID } from 'node:crypto';
import { serializeDocument } from '../../lib/registry/document.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { realisticEntry } from './document.bench.ts';
import { type BenchSuite, median, round, timed } from './harness.ts';

export const zkSuite: BenchSuite = {
  name: 'zk',
  async run({ quick, zkConnect }) {
    const store = new ZkStore({ openAcl: true, connectString: zkConnect });
    try {
      const path = `/bench/${randomUUID()}`;
      const services = 1000;
      const docs = [0, 1].map((k) =>
        Buffer.from(
          serializeDocument({ entries: Array.from({ length: services }, (_, i) => realisticEntry(i + k)) }),
        ),
      );
      await store.update([path], () => ({ data: [docs[0]], result: 0 }));
      const session = await store.connected();
      const rounds = quick ? 30 : 200;
      const bare = await timed(rounds, (i) =>
        session.call('bare setData', (done) =>
          session.client.setData(path, docs[i % 2] as Buffer, -1, (e) => done(e)),
        ),
      );
      const update = await timed(rounds, (i) =>
        store.update([path], () => ({ data: [docs[(i + 1) % 2]], result: 0 })),
      );
      return [
        {
          metric: 'update_ms',
          value: round(median(update)),
          unit: 'ms',
          note: `read + compare-and-set of a ${services}-service document`,
        },
        {
          metric: 'bare_set_ms',
          value: round(median(bare)),
          unit: 'ms',
          note: 'unconditional setData, same bytes (baseline)',
        },
        { metric: 'update_over_bare_set', value: round(median(update) / median(bare)), unit: 'ratio' },
      ];
    } finally {
      store.close();
    }
  },
};
