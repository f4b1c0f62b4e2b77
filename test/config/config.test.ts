import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULTS, parseReconcileConfig, parseRegistryConfig } from '../../lib/config/config.ts';
import { parseDigestCredentials } from '../../lib/config/credentials.ts';
import { connectStringProblem, znodePathProblem } from '../../lib/zk/paths.ts';

const minimal = { ZK_CONNECT: 'zk1:2181', REGISTRY_PATH: '/registry/services', CLUSTER_ID: 'prod-eu-1' };
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseRegistryConfig', () => {
  test('the three required settings and defaults for the rest', () => {
    const config = parseRegistryConfig(minimal);
    expect(config).toMatchObject({
      registryPath: '/registry/services',
      clusterId: 'prod-eu-1',
      policy: 'sync',
      maxDeleteShare: 0.5,
      credentials: { kind: 'none' },
      openAcl: false,
      timeoutEarlyMs: DEFAULTS.timeoutEarlyMs,
      zk: {
        connectString: 'zk1:2181',
        sessionTimeoutMs: DEFAULTS.sessionTimeoutMs,
        connectTimeoutMs: DEFAULTS.connectTimeoutMs,
        operationTimeoutMs: DEFAULTS.operationTimeoutMs,
        maxDataBytes: 1_000_000,
        maxAttempts: 25,
      },
    });
    expect(config.mapping.serviceTypes).toEqual(['LoadBalancer']);
    expect(config.budgets).toEqual({
      namespaceMaxEntries: 250,
      namespaceMaxBytes: 100_000,
      clusterMaxBytes: 500_000,
    });
  });

  test('budgets: set, and by default the cluster may fill half of the document', () => {
    expect(
      parseRegistryConfig({
        ...minimal,
        NAMESPACE_MAX_ENTRIES: '40',
        NAMESPACE_MAX_BYTES: '20000',
        CLUSTER_MAX_BYTES: '300000',
      }).budgets,
    ).toEqual({ namespaceMaxEntries: 40, namespaceMaxBytes: 20_000, clusterMaxBytes: 300_000 });
    expect(parseRegistryConfig({ ...minimal, MAX_DOCUMENT_BYTES: '400000' }).budgets.clusterMaxBytes).toBe(
      200_000,
    );
    expect(parseRegistryConfig({ ...minimal, MAX_DOCUMENT_BYTES: '60000' }).budgets).toMatchObject({
      namespaceMaxBytes: 60_000,
      clusterMaxBytes: 30_000,
    });
  });

  test('every setting read', () => {
    const config = parseRegistryConfig({
      ...minimal,
      ZK_CONNECT: 'a:2181,b:2182,[::1]:2183/chroot/x',
      POLICY: 'upsert-only',
      MAX_DELETE_SHARE: '0.25',
      MAX_DOCUMENT_BYTES: '500000',
      ZK_SESSION_TIMEOUT_MS: '20000',
      ZK_CONNECT_TIMEOUT_MS: '3000',
      ZK_OPERATION_TIMEOUT_MS: '4000',
      ZK_MAX_ATTEMPTS: '10',
      TIMEOUT_EARLY_MS: '7000',
      NAMESPACES_DENY: 'kube-*',
      NAME_TEMPLATE: '{name}.{namespace}.{cluster}',
      ZK_AUTH_SSM_PARAMETER: '/kube-zk-sync/zk-digest',
    });
    expect(config.policy).toBe('upsert-only');
    expect(config.maxDeleteShare).toBe(0.25);
    expect(config.zk).toEqual({
      connectString: 'a:2181,b:2182,[::1]:2183/chroot/x',
      sessionTimeoutMs: 20000,
      connectTimeoutMs: 3000,
      operationTimeoutMs: 4000,
      maxDataBytes: 500000,
      maxAttempts: 10,
    });
    expect(config.timeoutEarlyMs).toBe(7000);
    expect(config.mapping.namespacesDeny).toEqual(['kube-*']);
    expect(config.mapping.nameTemplate).toBe('{name}.{namespace}.{cluster}');
    expect(config.credentials).toEqual({
      kind: 'ssm',
      setting: 'ZK_AUTH_SSM_PARAMETER',
      name: '/kube-zk-sync/zk-digest',
    });
  });

  test('an open ACL only when asked for, in so many words', () => {
    expect(parseRegistryConfig({ ...minimal, ZK_OPEN_ACL: 'true' }).openAcl).toBe(true);
    expect(parseRegistryConfig({ ...minimal, ZK_OPEN_ACL: 'TRUE' }).openAcl).toBe(true);
    expect(parseRegistryConfig({ ...minimal, ZK_OPEN_ACL: 'false' }).openAcl).toBe(false);
    expect(parseRegistryConfig({ ...minimal, ZK_OPEN_ACL: '' }).openAcl).toBe(false);
  });

  test('a Secrets Manager secret by ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kube-zk-sync/zk-AbCdEf';
    expect(parseRegistryConfig({ ...minimal, ZK_AUTH_SECRET_ID: arn }).credentials).toEqual({
      kind: 'secretsmanager',
      setting: 'ZK_AUTH_SECRET_ID',
      secretId: arn,
    });
  });

  test('one error names every missing setting', () => {
    const message = errorOf(() => parseRegistryConfig({}));
    expect(message).toContain('ZK_CONNECT is not set');
    expect(message).toContain('REGISTRY_PATH is not set');
    expect(message).toContain('CLUSTER_ID is not set');
  });

  test.each([
    [{ ZK_CONNECT: 'zk1' }, 'ZK_CONNECT="zk1": "zk1" is not host:port'],
    [{ ZK_CONNECT: 'zk1:99999' }, 'outside 1–65535'],
    [{ ZK_CONNECT: 'zk1:2181/a/' }, 'the chroot'],
    [{ REGISTRY_PATH: 'registry' }, 'REGISTRY_PATH="registry": "registry" is not absolute'],
    [{ REGISTRY_PATH: '/registry/' }, 'ends with "/"'],
    [{ REGISTRY_PATH: '/zookeeper/quota' }, "ZooKeeper's own"],
    [{ CLUSTER_ID: 'prod eu' }, 'CLUSTER_ID="prod eu": invalid cluster id'],
    [{ POLICY: 'mirror' }, 'POLICY="mirror": use one of sync, upsert-only, create-only'],
    [{ MAX_DELETE_SHARE: '2' }, 'MAX_DELETE_SHARE="2": use a share from 0 to 1'],
    [{ MAX_DELETE_SHARE: '-0.1' }, 'MAX_DELETE_SHARE="-0.1"'],
    [{ MAX_DOCUMENT_BYTES: '1e6' }, 'MAX_DOCUMENT_BYTES="1e6": use a whole number'],
    [{ ZK_OPERATION_TIMEOUT_MS: '0' }, 'ZK_OPERATION_TIMEOUT_MS="0"'],
    [{ SERVICE_TYPES: 'Ingress' }, 'SERVICE_TYPES="Ingress"'],
    [{ LABEL_SELECTOR: 'a in (' }, 'LABEL_SELECTOR='],
    [
      { ZK_AUTH_SSM_PARAMETER: '/a', ZK_AUTH_SECRET_ID: 'b' },
      'ZK_AUTH_SECRET_ID="b": ZK_AUTH_SSM_PARAMETER is set too',
    ],
    [{ ZK_AUTH_SECRET_ID: 'has space' }, 'ZK_AUTH_SECRET_ID="has space"'],
    [{ ZK_OPEN_ACL: 'yes' }, 'ZK_OPEN_ACL="yes": use "true" or "false"'],
    [{ NAMESPACE_MAX_ENTRIES: '0' }, 'NAMESPACE_MAX_ENTRIES="0": use a whole number from 1'],
    [
      { CLUSTER_MAX_BYTES: '2000000' },
      'CLUSTER_MAX_BYTES="2000000": use a whole number from 1024 to 1000000',
    ],
    [
      { MAX_DOCUMENT_BYTES: '500000', NAMESPACE_MAX_BYTES: '600000' },
      'NAMESPACE_MAX_BYTES="600000": use a whole number from 1024 to 500000',
    ],
    [{ NAME_TEMPLATE: '{name}' }, 'NAME_TEMPLATE="{name}": without {namespace}'],
    [{ ALLOW_EXTERNAL_IPS: 'true' }, 'EXTERNAL_IPS_NAMESPACES is not set'],
  ])('%j is refused, naming the setting', (bad, expected) => {
    expect(errorOf(() => parseRegistryConfig({ ...minimal, ...bad }))).toContain(expected);
  });

  test('path and connect string rules', () => {
    expect(znodePathProblem('/a/b')).toBeUndefined();
    expect(znodePathProblem('/a/../b')).toContain('".."');
    expect(znodePathProblem('/a\u0001')).toContain('control character');
    expect(connectStringProblem('h:1,h2:2')).toBeUndefined();
    expect(connectStringProblem('h:1,')).toContain('is not host:port');
  });
});

describe('parseReconcileConfig', () => {
  test('a kubeconfig file by default', () => {
    expect(parseReconcileConfig(minimal).kube).toEqual({ kind: 'kubeconfig' });
    expect(parseReconcileConfig({ ...minimal, KUBECONFIG: '/k', KUBE_CONTEXT: 'c' }).kube).toEqual({
      kind: 'kubeconfig',
      file: '/k',
      context: 'c',
    });
    expect(parseReconcileConfig(minimal).listPageSize).toBe(500);
  });

  test('EKS: cluster name, endpoint, CA and the region', () => {
    const config = parseReconcileConfig({
      ...minimal,
      EKS_CLUSTER_NAME: 'prod',
      EKS_ENDPOINT: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      EKS_CA_DATA: CA,
      AWS_REGION: 'eu-west-1',
      LIST_PAGE_SIZE: '250',
    });
    expect(config.kube).toEqual({
      kind: 'eks',
      clusterName: 'prod',
      endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      caData: CA,
      region: 'eu-west-1',
    });
    expect(config.listPageSize).toBe(250);
  });

  test('EKS settings that are missing or wrong are named', () => {
    const message = errorOf(() =>
      parseReconcileConfig({
        ...minimal,
        EKS_CLUSTER_NAME: 'prod',
        EKS_ENDPOINT: 'http://x',
        EKS_CA_DATA: 'bm9wZQ==',
      }),
    );
    expect(message).toContain('EKS_ENDPOINT="http://x"');
    expect(message).toContain('EKS_CA_DATA=');
    expect(message).toContain('AWS_REGION is not set');
    expect(errorOf(() => parseReconcileConfig({ ...minimal, EKS_ENDPOINT: 'https://x' }))).toContain(
      'EKS_ENDPOINT="https://x": it needs EKS_CLUSTER_NAME too',
    );
  });
});

describe('parseDigestCredentials', () => {
  test('user:password, and JSON with user or username', () => {
    expect(parseDigestCredentials('sync:p:a:ss\n', 'x')).toEqual({ user: 'sync', password: 'p:a:ss' });
    expect(parseDigestCredentials('{"user":"sync","password":"s3cret"}', 'x')).toEqual({
      user: 'sync',
      password: 's3cret',
    });
    expect(parseDigestCredentials('{"username":"sync","password":"s3cret","engine":"zk"}', 'x')).toEqual({
      user: 'sync',
      password: 's3cret',
    });
  });

  test.each(['nopassword', ':pw', 'user:', '{"user":"a"}', '{"user":', '{"user":"a:b","password":"c"}'])(
    '%j is refused without echoing the secret',
    (text) => {
      const message = errorOf(() => parseDigestCredentials(text, 'the secret S'));
      expect(message).toContain('the secret S');
      if (text.includes('pw')) expect(message).not.toContain('pw');
    },
  );
});
