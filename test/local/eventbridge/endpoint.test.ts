// The local EventBridge endpoint, driven by the real @aws-sdk/client-eventbridge: what the forwarder will see.
import {
  EventBridgeClient,
  type EventBridgeClientConfig,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, test } from 'vitest';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../../lib/events/contract.ts';
import { entrySize } from '../../../lib/local/eventbridge/put-events.ts';
import {
  type Delivery,
  LocalEventBridge,
  type LocalEventBridgeOptions,
} from '../../../lib/local/eventbridge/server.ts';
import { rulePatternsFromServerlessYmlText } from '../../../lib/local/eventbridge/serverless-rules.ts';

const started: { bridge: LocalEventBridge; client: EventBridgeClient }[] = [];

async function setup(options: LocalEventBridgeOptions = {}, client: Partial<EventBridgeClientConfig> = {}) {
  const bridge = await LocalEventBridge.start(options);
  const sdk = new EventBridgeClient({ ...bridge.clientConfig(), maxAttempts: 1, ...client });
  started.push({ bridge, client: sdk });
  return { bridge, client: sdk };
}

afterEach(async () => {
  for (const { bridge, client } of started.splice(0)) {
    client.destroy();
    await bridge.stop();
  }
});

const entry = (detail: object, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: EVENT_SOURCE,
  DetailType: EVENT_DETAIL_TYPE,
  Detail: JSON.stringify(detail),
  ...extra,
});
const entries = (count: number) => Array.from({ length: count }, (_, i) => entry({ i }));

/** The rejection of a call, as the SDK raises it. */
async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number; attempts?: number } };
  }
  throw new Error('the call succeeded, but it was expected to fail');
}

const ourRule = {
  name: 'ServiceEvents',
  pattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
};

describe('PutEvents through the real SDK client', () => {
  test('accepted entries get event ids, and matching events are delivered as EventBridge envelopes', async () => {
    const { bridge, client } = await setup({
      rules: [ourRule],
      region: 'us-east-1',
      account: '210987654321',
    });
    const time = new Date('2026-03-04T05:06:07.890Z');
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry(
            { key: 'shop/web' },
            { Time: time, Resources: ['arn:aws:eks:us-east-1:210987654321:cluster/prod'] },
          ),
          entry({ key: 'other' }, { Source: 'someone-else' }),
        ],
      }),
    );
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(2);
    const ids = result.Entries?.map((e) => e.EventId);
    expect(ids?.every((id) => typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id))).toBe(true);

    expect(bridge.deliveries).toStrictEqual([
      {
        rule: 'ServiceEvents',
        eventBusName: 'default',
        event: {
          version: '0',
          id: ids?.[0],
          'detail-type': EVENT_DETAIL_TYPE,
          source: EVENT_SOURCE,
          account: '210987654321',
          time: '2026-03-04T05:06:07Z',
          region: 'us-east-1',
          resources: ['arn:aws:eks:us-east-1:210987654321:cluster/prod'],
          detail: { key: 'shop/web' },
        },
      },
    ]);
  });

  test('an entry without Time is stamped with the time it arrived', async () => {
    const { bridge, client } = await setup({
      rules: [ourRule],
      now: () => new Date('2030-01-01T00:00:00.123Z'),
    });
    await client.send(new PutEventsCommand({ Entries: [entry({})] }));
    expect(bridge.deliveries[0]?.event.time).toBe('2030-01-01T00:00:00Z');
  });

  test.each([0, 11])('%i entries are refused whole with ValidationException', async (count) => {
    const { bridge, client } = await setup({ rules: [ourRule] });
    const error = await rejection(client.send(new PutEventsCommand({ Entries: entries(count) })));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/failed to satisfy constraint: Member must have length/);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(bridge.deliveries).toStrictEqual([]);
  });

  test('ten entries are accepted', async () => {
    const { bridge, client } = await setup({ rules: [ourRule] });
    const result = await client.send(new PutEventsCommand({ Entries: entries(10) }));
    expect(result.FailedEntryCount).toBe(0);
    expect(bridge.deliveries.map((d) => d.event.detail)).toStrictEqual(
      entries(10).map((e) => JSON.parse(e.Detail ?? '')),
    );
  });

  test('a request whose entries total 256 KiB or more is refused whole; one byte less goes through', async () => {
    const { client } = await setup();
    const limit = 256 * 1024;
    const padded = (total: number, extra: Partial<PutEventsRequestEntry> = {}) => {
      const base = entrySize({
        ...entry({ pad: '' }),
        ...extra,
        Time: extra.Time === undefined ? undefined : 0,
      });
      return entry({ pad: 'x'.repeat(total - base) }, extra);
    };
    const fits = padded(limit - 1);
    expect(entrySize(fits)).toBe(limit - 1);
    expect((await client.send(new PutEventsCommand({ Entries: [fits] }))).FailedEntryCount).toBe(0);

    const over = await rejection(client.send(new PutEventsCommand({ Entries: [padded(limit)] })));
    expect(over.name).toBe('ValidationException');
    expect(over.message).toBe('Total size of the entries in the request is over the limit.');

    // Time counts 14 bytes and each Resources string its length, as AWS counts them.
    const withTime = { ...fits, Time: new Date() };
    expect((await rejection(client.send(new PutEventsCommand({ Entries: [withTime] })))).name).toBe(
      'ValidationException',
    );
    const split = [padded(limit / 2), { ...padded(limit / 2 - 1), Resources: ['r'] }];
    expect((await rejection(client.send(new PutEventsCommand({ Entries: split })))).name).toBe(
      'ValidationException',
    );
  });

  test('a malformed or missing Detail fails only its own entry, in a 200 answer aligned with the request', async () => {
    const { bridge, client } = await setup({ rules: [ourRule] });
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ n: 0 }),
          { Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: '{not json' },
          { Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: '[1,2]' },
          { Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE },
          entry({ n: 4 }),
        ],
      }),
    );
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries?.map((e) => e.ErrorCode ?? 'ok')).toStrictEqual([
      'ok',
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'ok',
    ]);
    expect(result.Entries?.[3]?.ErrorMessage).toBe(
      'Parameter Detail is not valid. Reason: Detail is a required argument.',
    );
    expect(bridge.deliveries.map((d) => d.event.detail)).toStrictEqual([{ n: 0 }, { n: 4 }]);
  });
});

describe('throttling and partial failures, as AWS reports them', () => {
  test('a throttled call is an HTTP 400 ThrottlingException that the SDK retries by itself', async () => {
    const { bridge, client } = await setup({ rules: [ourRule] }, { maxAttempts: 3 });
    bridge.throttleNext(1);
    const result = await client.send(new PutEventsCommand({ Entries: entries(2) }));
    expect(result.FailedEntryCount).toBe(0);
    expect(result.$metadata.attempts).toBe(2);
    expect(bridge.calls.map((c) => [c.status, c.error])).toStrictEqual([
      [400, 'ThrottlingException'],
      [200, undefined],
    ]);
    expect(bridge.deliveries).toHaveLength(2);
  });

  test('when throttling outlasts the retries, the SDK raises ThrottlingException', async () => {
    const { bridge, client } = await setup({}, { maxAttempts: 2 });
    bridge.throttleNext(5);
    const error = await rejection(client.send(new PutEventsCommand({ Entries: entries(1) })));
    expect(error.name).toBe('ThrottlingException');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 2 });
    expect(bridge.calls).toHaveLength(2);
  });

  test('a throttle rate refuses a share of calls, the same calls for the same seed', async () => {
    const outcomes = async (seed: number) => {
      const { client } = await setup({ seed, faults: { throttleRate: 0.5 } });
      const seen: string[] = [];
      for (let i = 0; i < 24; i++) {
        try {
          await client.send(new PutEventsCommand({ Entries: entries(1) }));
          seen.push('ok');
        } catch (error) {
          seen.push((error as Error).name);
        }
      }
      return seen;
    };
    const first = await outcomes(7);
    expect(await outcomes(7)).toStrictEqual(first);
    expect(first).toContain('ok');
    expect(first).toContain('ThrottlingException');
    expect(await outcomes(8)).not.toStrictEqual(first);
  });

  test('an entry failure rate fails entries inside a 200 answer, reproducibly, and only successes are routed', async () => {
    const run = async (seed: number) => {
      const { bridge, client } = await setup({
        seed,
        rules: [ourRule],
        faults: { entryFailureRate: 0.4, entryErrorCode: 'InternalFailure' },
      });
      const result = await client.send(new PutEventsCommand({ Entries: entries(10) }));
      return { bridge, result };
    };
    const { bridge, result } = await run(3);
    const codes = result.Entries?.map((e) => e.ErrorCode ?? 'ok') ?? [];
    const failed = codes.filter((c) => c !== 'ok').length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(10);
    expect(result.FailedEntryCount).toBe(failed);
    expect(new Set(codes)).toStrictEqual(new Set(['ok', 'InternalFailure']));
    expect(result.Entries?.filter((e) => e.ErrorCode).every((e) => e.ErrorMessage && !e.EventId)).toBe(true);
    const delivered = bridge.deliveries.map((d) => d.event.detail.i);
    expect(delivered).toStrictEqual(codes.flatMap((c, i) => (c === 'ok' ? [i] : [])));

    const again = await run(3);
    expect(again.result.Entries).toStrictEqual(result.Entries);
  });

  test('a chosen entry can be failed with a non-retryable code', async () => {
    const { client } = await setup({
      faults: {
        failEntry: (e) => (e.Detail === JSON.stringify({ i: 1 }) ? 'AccessDeniedException' : undefined),
      },
    });
    const result = await client.send(new PutEventsCommand({ Entries: entries(3) }));
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[1]).toStrictEqual({
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: 'Access denied.',
    });
    expect(result.Entries?.[0]?.EventId).toBeDefined();
    expect(result.Entries?.[2]?.EventId).toBeDefined();
  });

  test('latency delays every answer', async () => {
    const { client } = await setup({ faults: { latencyMs: 150 } });
    const start = performance.now();
    await client.send(new PutEventsCommand({ Entries: entries(1) }));
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
  });

  test('the same seed gives the same event ids', async () => {
    const ids = async () => {
      const { client } = await setup({ seed: 11 });
      const result = await client.send(new PutEventsCommand({ Entries: entries(3) }));
      return result.Entries?.map((e) => e.EventId);
    };
    expect(await ids()).toStrictEqual(await ids());
  });
});

describe('requests the SDK would never send', () => {
  test('an unsigned call, an unknown operation and a bad body are refused in the AWS JSON error format', async () => {
    const { bridge } = await setup();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(bridge.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', ...headers },
        body,
      }).then(async (r) => [r.status, await r.json()]);
    const signed = {
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/events/aws4_request',
    };
    expect(await post({ 'x-amz-target': 'AWSEvents.PutEvents' }, '{"Entries":[]}')).toStrictEqual([
      400,
      { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
    ]);
    expect(await post({ ...signed, 'x-amz-target': 'AWSEvents.PutRule' }, '{}')).toMatchObject([
      400,
      { __type: 'UnknownOperationException' },
    ]);
    expect(await post({ ...signed, 'x-amz-target': 'AWSEvents.PutEvents' }, '{')).toMatchObject([
      400,
      { __type: 'SerializationException' },
    ]);
    expect(
      await post({ ...signed, 'x-amz-target': 'AWSEvents.PutEvents' }, '{"Entries":[null]}'),
    ).toMatchObject([200, { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InvalidArgument' }] }]);
  });
});

describe('routing by rule', () => {
  const serverlessYml = `
service: kube-zk-sync
provider:
  name: aws
  environment:
    BUS_ARN: !GetAtt ServiceEventsBus.Arn
resources:
  Resources:
    ServiceEventsBus:
      Type: AWS::Events::EventBus
      Properties:
        Name: kube-zk-sync
    ServiceEventsRule:
      Type: AWS::Events::Rule
      Properties:
        EventBusName: kube-zk-sync
        EventPattern:
          source: [kube-zk-sync]
          detail-type: [Kubernetes Service observed]
          detail:
            v: [1]
        Targets:
          - Arn: !GetAtt ServiceEventsQueue.Arn
            Id: queue
    DeletionsRule:
      Type: AWS::Events::Rule
      Properties:
        EventBusName: !Ref ServiceEventsBus
        EventPattern:
          source: [kube-zk-sync]
          detail:
            reason: [deleted]
`;

  test('rules read from serverless.yml route by pattern and by bus, to the array and to subscribers', async () => {
    const { bridge, client } = await setup({ rules: rulePatternsFromServerlessYmlText(serverlessYml) });
    const seen: Delivery[] = [];
    const unsubscribe = bridge.subscribe((d) => seen.push(d));
    const bus = 'arn:aws:events:us-east-1:123456789012:event-bus/kube-zk-sync';
    await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ v: 1, reason: 'watch' }, { EventBusName: bus }),
          entry({ v: 1, reason: 'deleted' }, { EventBusName: 'kube-zk-sync' }),
          entry({ v: 2, reason: 'watch' }, { EventBusName: 'kube-zk-sync' }),
          entry({ v: 1, reason: 'watch' }),
          entry({ v: 1, reason: 'watch' }, { EventBusName: 'another-bus' }),
        ],
      }),
    );
    const routed = bridge.deliveries.map((d) => [d.rule, d.eventBusName, d.event.detail]);
    expect(routed).toStrictEqual([
      ['ServiceEventsRule', 'kube-zk-sync', { v: 1, reason: 'watch' }],
      ['ServiceEventsRule', 'kube-zk-sync', { v: 1, reason: 'deleted' }],
      // DeletionsRule names its bus with !Ref, which is not resolved, so it listens on every bus.
      ['DeletionsRule', 'kube-zk-sync', { v: 1, reason: 'deleted' }],
    ]);
    expect(seen).toStrictEqual(bridge.deliveries);

    unsubscribe();
    await client.send(new PutEventsCommand({ Entries: [entry({ v: 1 }, { EventBusName: 'kube-zk-sync' })] }));
    expect(bridge.deliveries).toHaveLength(4);
    expect(seen).toHaveLength(3);
  });

  test('a subscriber that throws does not fail the PutEvents call', async () => {
    const { bridge, client } = await setup({ rules: [ourRule] });
    bridge.subscribe(() => {
      throw new Error('target down');
    });
    const result = await client.send(new PutEventsCommand({ Entries: entries(1) }));
    expect(result.FailedEntryCount).toBe(0);
    expect(bridge.deliveryErrors).toHaveLength(1);
  });
});
