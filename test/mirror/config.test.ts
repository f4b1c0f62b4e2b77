import { describe, expect, test } from 'vitest';
import { MirrorConfigError, parseMirrorConfig } from '../../lib/mirror/config.ts';

describe('parseMirrorConfig', () => {
  test('defaults: namespace registry, prune, half of the Services at most, client-go lease timings', () => {
    expect(parseMirrorConfig({ clusterId: 'prod' }, {}, 'pod-1')).toEqual({
      clusterId: 'prod',
      namespace: 'registry',
      includeClusters: [],
      prune: true,
      maxDeleteShare: 0.5,
      leaseName: 'kube-zk-sync-mirror',
      identity: 'pod-1',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      resyncMs: 60_000,
      sessionTimeoutMs: 15_000,
      port: 8080,
      concurrency: 8,
      logLevel: 'info',
    });
  });

  test('a flag wins over its variable; the environment fills the rest', () => {
    const config = parseMirrorConfig(
      { prune: 'false', includeClusters: 'eu, us' },
      { CLUSTER_ID: 'prod', PRUNE: 'true', MIRROR_NAMESPACE: 'dbs', POD_NAME: 'mirror-abc' },
      'host',
    );
    expect(config).toMatchObject({
      prune: false,
      includeClusters: ['eu', 'us'],
      namespace: 'dbs',
      identity: 'mirror-abc',
    });
  });

  test('every problem at once, naming flag and variable', () => {
    const parse = () =>
      parseMirrorConfig(
        {
          includeClusters: 'prod',
          clusterId: 'prod',
          namespace: 'Not_A_Namespace',
          maxDeleteShare: '2',
          leaseDurationSeconds: '10',
        },
        {},
        'h',
      );
    expect(parse).toThrow(MirrorConfigError);
    expect(parse).toThrow(
      /--namespace \/ MIRROR_NAMESPACE="Not_A_Namespace".*--include-clusters \/ INCLUDE_CLUSTERS="prod": this cluster's own entries are never mirrored.*--max-delete-share \/ MAX_DELETE_SHARE="2".*must be longer than the renew deadline/,
    );
    expect(() => parseMirrorConfig({}, {}, 'h')).toThrow(/--cluster-id \/ CLUSTER_ID is not set/);
  });
});
