// The real SSM and Secrets Manager clients against a small local endpoint that speaks their JSON protocol, so the
// request (target, decryption) and the handling of each answer are what production sees.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../lib/config/config.ts';
import { fetchZkCredentials } from '../../lib/config/credentials.ts';
import { awsJsonEndpoint } from '../support/aws-json-endpoint.ts';

const notFound = (type: string) => ({ status: 400, body: { __type: type, message: 'not found' } });

describe('fetchZkCredentials against a local AWS endpoint', () => {
  const { server, calls } = awsJsonEndpoint(({ target, body }) => {
    if (target === 'AmazonSSM.GetParameter') {
      if (body.Name === '/zk/secure')
        return {
          status: 200,
          body: { Parameter: { Name: body.Name, Type: 'SecureString', Value: 'sync:s3cret' } },
        };
      if (body.Name === '/zk/plain')
        return {
          status: 200,
          body: { Parameter: { Name: body.Name, Type: 'String', Value: 'sync:s3cret' } },
        };
      return notFound('ParameterNotFound');
    }
    if (target === 'secretsmanager.GetSecretValue') {
      if (body.SecretId === 'zk-json')
        return {
          status: 200,
          body: { Name: 'zk-json', SecretString: '{"username":"sync","password":"pw"}' },
        };
      if (body.SecretId === 'zk-binary')
        return { status: 200, body: { Name: 'zk-binary', SecretBinary: 'AAEC' } };
      if (body.SecretId === 'zk-garbage')
        return { status: 200, body: { Name: 'zk-garbage', SecretString: 'hunter2' } };
      return notFound('ResourceNotFoundException');
    }
    return { status: 400, body: { __type: 'UnknownOperationException' } };
  });
  let clients: Parameters<typeof fetchZkCredentials>[1];
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    clients = {
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'eu-west-1',
      awsCredentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    };
  });
  afterAll(() => new Promise<void>((resolve) => (server as Server).close(() => resolve())));

  const ssm = (name: string) => ({ kind: 'ssm' as const, setting: 'ZK_AUTH_SSM_PARAMETER', name });
  const secret = (secretId: string) => ({
    kind: 'secretsmanager' as const,
    setting: 'ZK_AUTH_SECRET_ID',
    secretId,
  });
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  };

  test('no source: no call, no credentials', async () => {
    const before = calls.length;
    expect(await fetchZkCredentials({ kind: 'none' }, clients)).toBeUndefined();
    expect(calls.length).toBe(before);
  });

  test('an SSM SecureString, asked for decrypted', async () => {
    expect(await fetchZkCredentials(ssm('/zk/secure'), clients)).toEqual({
      user: 'sync',
      password: 's3cret',
    });
    expect(calls.at(-1)).toEqual({
      target: 'AmazonSSM.GetParameter',
      body: { Name: '/zk/secure', WithDecryption: true },
    });
  });

  test('a plain String parameter is refused: the password must be encrypted at rest', async () => {
    expect(await failure(fetchZkCredentials(ssm('/zk/plain'), clients))).toContain(
      'ZK_AUTH_SSM_PARAMETER="/zk/plain" is a String; store the ZooKeeper password as a SecureString',
    );
  });

  test('a missing parameter names the setting and what to check', async () => {
    const message = await failure(fetchZkCredentials(ssm('/zk/missing'), clients));
    expect(message).toContain('ZK_AUTH_SSM_PARAMETER="/zk/missing"');
    expect(message).toContain('ParameterNotFound');
  });

  test('a Secrets Manager secret string', async () => {
    expect(await fetchZkCredentials(secret('zk-json'), clients)).toEqual({ user: 'sync', password: 'pw' });
    expect(calls.at(-1)).toEqual({ target: 'secretsmanager.GetSecretValue', body: { SecretId: 'zk-json' } });
  });

  test('binary, unreadable and missing secrets are refused, naming the setting', async () => {
    expect(await failure(fetchZkCredentials(secret('zk-binary'), clients))).toContain('holds binary data');
    const garbage = await failure(fetchZkCredentials(secret('zk-garbage'), clients));
    expect(garbage).toContain('ZK_AUTH_SECRET_ID="zk-garbage"');
    expect(garbage).not.toContain('hunter2');
    expect(await failure(fetchZkCredentials(secret('zk-gone'), clients))).toContain(
      'ResourceNotFoundException',
    );
  });
});
