// The EKS bearer token: its shape as aws-iam-authenticator verifies it, its signature checked by an independent
// SigV4 computation (node:crypto), and its use by the real @kubernetes/client-node on every request.
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EKS_TOKEN_PREFIX, eksBearerToken, eksKubeConfig } from '../../lib/kube/eks.ts';
import { eksKubeConnection } from '../../lib/kube/eks-token.ts';
import { listAllServices } from '../../lib/kube/list.ts';
import { kubeHttp } from '../../lib/kube/service-events.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=odd&chars',
};
const now = new Date('2026-11-25T12:34:56Z');
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

const decode = (token: string) =>
  new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());

/** SigV4 query-string signing, written from the AWS specification, to check the token without trusting smithy. */
function expectedSignature(url: URL, cluster: string, secret: string): string {
  const encode = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]): [string, string] => [encode(k), encode(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const emptyPayload = createHash('sha256').update('').digest('hex');
  const canonical = [
    'GET',
    '/',
    query,
    `host:${url.host}`,
    `x-k8s-aws-id:${cluster}`,
    '',
    'host;x-k8s-aws-id',
    emptyPayload,
  ].join('\n');
  const date = url.searchParams.get('X-Amz-Date') as string;
  const scope = (url.searchParams.get('X-Amz-Credential') as string).split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  const [day, region, service] = scope.split('/') as [string, string, string];
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('eksBearerToken', () => {
  test('a presigned sts:GetCallerIdentity URL with the cluster name signed, as EKS verifies it', async () => {
    const token = await eksBearerToken({ clusterName: 'prod-eu', region: 'eu-west-1', credentials, now });
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    expect(token).not.toContain('=');
    expect(token.length).toBeLessThanOrEqual(4096);
    const url = decode(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261125/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20261125T123456Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': credentials.sessionToken,
    });
    // Only parameters the verifier allows: action, version and x-amz-*.
    for (const key of Object.keys(q)) expect(key).toMatch(/^(Action|Version|X-Amz-.+)$/);
    expect(q['X-Amz-Signature']).toBe(expectedSignature(url, 'prod-eu', credentials.secretAccessKey));
    // Signed for another cluster, the same URL would not verify.
    expect(q['X-Amz-Signature']).not.toBe(expectedSignature(url, 'other', credentials.secretAccessKey));
  });

  test('the China partition has its own STS domain', async () => {
    const token = await eksBearerToken({ clusterName: 'c', region: 'cn-north-1', credentials, now });
    expect(decode(token).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('eksKubeConfig with the real client', () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(String(req.headers.authorization));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'ServiceList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '7' },
        items: [],
      }),
    );
  });
  let endpoint: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('every request carries a bearer token, reused for ten minutes and then renewed', async () => {
    let clock = now.getTime();
    let asked = 0;
    const kc = eksKubeConfig(
      { clusterName: 'prod-eu', endpoint, caData: CA, region: 'eu-west-1' },
      async () => {
        asked++;
        return credentials;
      },
      () => clock,
    );
    const api = kc.makeApiClient(CoreV1Api);
    expect((await listAllServices(api)).resourceVersion).toBe('7');
    clock += 9 * 60_000;
    await listAllServices(api);
    clock += 2 * 60_000;
    await listAllServices(api);
    expect(asked).toBe(2);
    expect(seen).toHaveLength(3);
    for (const header of seen) expect(header).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).not.toBe(seen[1]);
    expect(decode((seen[2] as string).slice('Bearer '.length)).searchParams.get('X-Amz-Date')).toBe(
      '20261125T124556Z',
    );
  });

  test("the Event writer's connection (no client-node) carries the same token, signed once for its requests", async () => {
    seen.length = 0;
    let asked = 0;
    const http = kubeHttp(
      eksKubeConnection({ clusterName: 'prod-eu', endpoint, caData: CA, region: 'eu-west-1' }, async () => {
        asked++;
        return credentials;
      }),
    );
    const signal = new AbortController().signal;
    for (let i = 0; i < 2; i++)
      expect(
        (await http.request('POST', '/apis/events.k8s.io/v1/namespaces/a/events', { body: {}, signal }))
          .status,
      ).toBe(200);
    expect(asked).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(seen[1]).toBe(seen[0]);
  });

  test('credentials that expire sooner bound the reuse of the token', async () => {
    let clock = now.getTime();
    let asked = 0;
    const kc = eksKubeConfig(
      { clusterName: 'prod-eu', endpoint, caData: CA, region: 'eu-west-1' },
      async () => {
        asked++;
        return { ...credentials, expiration: new Date(clock + 3 * 60_000) };
      },
      () => clock,
    );
    const api = kc.makeApiClient(CoreV1Api);
    await listAllServices(api);
    clock += 2 * 60_000 + 1;
    await listAllServices(api);
    expect(asked).toBe(2);
  });
});
