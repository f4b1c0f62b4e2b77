// How big the document gets: bytes per realistic entry (an ELB hostname, two ports) and how many fit the limit.
import { ownedEntry, serializeDocument } from '../../lib/registry/document.ts';
import { ZK_MAX_DATA_BYTES } from '../../lib/util/defaults.ts';
import type { BenchSuite } from './harness.ts';

export const realisticEntry = (i: number) =>
  ownedEntry(
    {
      name: `service-${i}.team-${i % 40}`,
      description: `Kubernetes Service team-${i % 40}/service-${i} (cluster prod-eu-west-1)`,
      endpoints: [443, 8443].map(
        (port) =>
          `a${(i * 2654435761).toString(16).padStart(8, '0')}0123456789abcdef01234567-1234567890.eu-west-1.elb.amazonaws.com:${port}`,
      ),
    },
    { cluster: 'prod-eu-west-1', service: `team-${i % 40}/service-${i}` },
  );

export const documentSuite: BenchSuite = {
  name: 'document',
  async run() {
    const sample = 1000;
    const bytes = Buffer.byteLength(
      serializeDocument({ entries: Array.from({ length: sample }, (_, i) => realisticEntry(i)) }),
    );
    const perService = bytes / sample;
    // Grow until the next entry would not fit: the exact count, not an estimate.
    let count = Math.floor(ZK_MAX_DATA_BYTES / perService) - 50;
    const entries = Array.from({ length: count }, (_, i) => realisticEntry(i));
    const path = '/registry/services';
    while (
      Buffer.byteLength(serializeDocument({ entries: [...entries, realisticEntry(count)] })) + path.length <=
      ZK_MAX_DATA_BYTES
    ) {
      entries.push(realisticEntry(count++));
    }
    return [
      {
        metric: 'doc_bytes_per_service',
        value: Math.round(perService),
        unit: 'bytes',
        note: 'ELB hostname, two ports, ownership marker',
      },
      {
        metric: 'max_services_under_limit',
        value: count,
        unit: 'services',
        note: `limit ${ZK_MAX_DATA_BYTES} bytes`,
      },
    ];
  },
};
