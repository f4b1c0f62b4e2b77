// The forwarder's settings: flags over environment over defaults, and one error that names every bad setting.
import { describe, expect, test } from 'vitest';
import { ForwarderConfigError, parseForwarderConfig } from '../../lib/forwarder/config.ts';

const required = { CLUSTER_ID: 'prod-eu-west-1', EVENT_BUS_NAME: 'kube-zk-sync', AWS_REGION: 'eu-west-1' };

describe('parseForwarderConfig', () => {
  test('the environment alone is enough, with defaults for the rest', () => {
    expect(parseForwarderConfig({}, required)).toEqual({
      clusterId: 'prod-eu-west-1',
      eventBusName: 'kube-zk-sync',
      region: 'eu-west-1',
      port: 8080,
      stallSeconds: 45,
      flushSeconds: 20,
      watchTimeoutSeconds: 300,
      pageSize: 500,
      sendConcurrency: 4,
      logLevel: 'info',
    });
  });

  test('a flag wins over its variable; optional scope and endpoint are read', () => {
    const config = parseForwarderConfig(
      { clusterId: 'from-flag', namespace: 'payments', port: '9102', kubeconfig: '/tmp/kc' },
      {
        ...required,
        LABEL_SELECTOR: 'team in (core,infra),!legacy',
        EVENTBRIDGE_ENDPOINT: 'http://127.0.0.1:4010',
        STALL_SECONDS: '10',
        LOG_LEVEL: 'debug',
      },
    );
    expect(config).toMatchObject({
      clusterId: 'from-flag',
      namespace: 'payments',
      labelSelector: 'team in (core,infra),!legacy',
      eventBridgeEndpoint: 'http://127.0.0.1:4010',
      kubeconfig: '/tmp/kc',
      port: 9102,
      stallSeconds: 10,
      logLevel: 'debug',
    });
  });

  test('$KUBECONFIG is left to client-node, which also reads a list of files', () => {
    expect(parseForwarderConfig({}, { ...required, KUBECONFIG: '/a:/b' }).kubeconfig).toBeUndefined();
  });

  test('every problem is named at once, with its flag and its variable', () => {
    const parse = () =>
      parseForwarderConfig(
        { port: '70000', labelSelector: 'a in (' },
        { AWS_REGION: 'Ireland', WATCH_NAMESPACE: 'Not_A_Namespace', FLUSH_SECONDS: '-1', LOG_LEVEL: 'loud' },
      );
    expect(parse).toThrow(ForwarderConfigError);
    const message = (() => {
      try {
        parse();
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const part of [
      '--cluster-id / CLUSTER_ID is not set',
      '--event-bus / EVENT_BUS_NAME is not set',
      '--region / AWS_REGION="Ireland": use an AWS region name',
      '--namespace / WATCH_NAMESPACE="Not_A_Namespace": use a namespace name',
      '--label-selector / LABEL_SELECTOR="a in (": unbalanced parentheses',
      '--port / HTTP_PORT="70000": use a whole number from 0 to 65535',
      '--flush-seconds / FLUSH_SECONDS="-1": use a whole number',
      '--log-level / LOG_LEVEL="loud": use one of debug, info, warn, error',
    ]) {
      expect(message).toContain(part);
    }
  });
});
