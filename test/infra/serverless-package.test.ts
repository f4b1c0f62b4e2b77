// `serverless package` run offline with no AWS credentials, once, and the CloudFormation it generates checked: what
// is deployed is what the tests exercise (runtime, VPC, batching, partial failures, DLQ, schedule, and the rule's
// pattern against a real forwarder-shaped event through the local EventBridge). The zips are unpacked and their
// handlers loaded by Node alone, as the nodejs22.x runtime does: what a cold start parses, and what it leaves for
// later.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import CheckParams, { overGrants, placeholders } from '../../infra/serverless/check-params.mjs';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  RECONCILE_REQUEST_DETAIL_TYPE,
  RECONCILE_REQUEST_SOURCE,
} from '../../lib/events/contract.ts';
import { ApiServerSimulator, type ServiceInput } from '../../lib/local/apiserver/index.ts';
import { compileEventPattern } from '../../lib/local/eventbridge/pattern.ts';
import { LocalEventBridge } from '../../lib/local/eventbridge/server.ts';
import { rulePatternsFromServerlessYml } from '../../lib/local/eventbridge/serverless-rules.ts';
import { parseReconcileRequest } from '../../lib/reconcile/request.ts';
import { syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import { ZkSession } from '../../lib/zk/session.ts';
import { awsJsonEndpoint } from '../support/aws-json-endpoint.ts';
import {
  bytesOf,
  COLD_START_ENV,
  inLambdaRuntime,
  LAMBDA_FUNCTIONS,
  type PackagedService,
  packageService,
} from '../support/lambda-bundle.ts';
import { forwarderDetail, serviceRecord, sqsEvent, sqsRecord } from '../sync/fixtures.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: generated CloudFormation JSON, read by path in the assertions.
type Cfn = any;
type Resource = { Type: string; Properties: Record<string, Cfn>; Condition?: string };
let template: {
  Resources: Record<string, Resource>;
  Outputs: Record<string, Cfn>;
  Conditions: Record<string, Cfn>;
};
let out: string;
let packaged: PackagedService;
let zips: Record<string, string>;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'kube-zk-sync-package-'));
  packaged = await packageService(out);
  template = JSON.parse(
    await readFile(join(packaged.artifacts, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  const list = async (zip: string) => (await promisify(execFile)('unzip', ['-l', zip])).stdout;
  zips = {
    sync: await list(packaged.functions.sync.zip),
    reconcile: await list(packaged.functions.reconcile.zip),
  };
}, 180_000);
afterAll(() => rm(out, { recursive: true, force: true }));

const resource = (name: string): Resource => {
  const r = template.Resources[name];
  if (!r) throw new Error(`no resource ${name} in the template`);
  return r;
};
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
/** The Service whose event the packaged pipeline carries from the cluster to the document. */
const CART: ServiceInput = {
  namespace: 'shop',
  name: 'cart',
  type: 'LoadBalancer',
  ports: [{ port: 443 }],
  ingress: [{ hostname: 'cart.elb.example.com' }],
};

describe('serverless package (offline, no credentials)', () => {
  test('two functions on nodejs22.x, arm64, in the VPC from the params, each its own ESM bundle', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([name]) => name).sort()).toEqual(['ReconcileLambdaFunction', 'SyncLambdaFunction']);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.VpcConfig).toEqual({
        SecurityGroupIds: { 'Fn::Split': [',', 'sg-REPLACE_ME'] },
        SubnetIds: { 'Fn::Split': [',', 'subnet-REPLACE_ME-a,subnet-REPLACE_ME-b'] },
      });
      expect(fn.Properties.Role).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^(Sync|Reconcile)Role$/), 'Arn'],
      });
    }
    expect(resource('SyncLambdaFunction').Properties.Handler).toBe('functions/sync.handler');
    expect(resource('ReconcileLambdaFunction').Properties.Handler).toBe('functions/reconcile.handler');
    expect(zips.sync).toMatch(/\bfunctions\/sync\.mjs\n/);
    expect(zips.sync).not.toContain('reconcile');
    expect(zips.reconcile).toMatch(/\bfunctions\/reconcile\.mjs\n/);
    expect(zips.reconcile).not.toMatch(/functions\/sync\b/);
  });

  test('the configuration reaches both functions; the sync gets the EKS settings only to write Events', () => {
    const sync = resource('SyncLambdaFunction').Properties.Environment.Variables;
    const reconcile = resource('ReconcileLambdaFunction').Properties.Environment.Variables;
    for (const env of [sync, reconcile]) {
      expect(env).toMatchObject({
        ZK_CONNECT: 'REPLACE_ME.zookeeper.internal:2181',
        REGISTRY_PATH: '/registry/services',
        CLUSTER_ID: 'REPLACE_ME-cluster-id',
        POLICY: 'sync',
        MAX_DELETE_SHARE: '0.5',
        POWERTOOLS_METRICS_NAMESPACE: 'KubeZkSync',
      });
      // Never a password in the template: only where to fetch it.
      expect(Object.keys(env).filter((k) => /PASSWORD|AUTH$/.test(k))).toEqual([]);
    }
    expect(reconcile).toMatchObject({ EKS_CLUSTER_NAME: 'REPLACE_ME-eks-cluster', LIST_PAGE_SIZE: '500' });
    expect(sync).toMatchObject({ EKS_CLUSTER_NAME: 'REPLACE_ME-eks-cluster', SERVICE_EVENTS: 'true' });
    expect(reconcile.SERVICE_EVENTS).toBe('true');
    expect(sync.LIST_PAGE_SIZE).toBeUndefined();
    // The sync asks for reconciles on the stack's bus, at most every 30 s.
    expect(sync).toMatchObject({
      REPAIR_INTERVAL_SECONDS: '30',
      EVENT_BUS_NAME: { 'Fn::If': ['CreateBus', { Ref: 'ServiceEventsBus' }, ''] },
    });
    // The handlers parse this at cold start: everything but the placeholders (and what CloudFormation resolves)
    // is valid as it stands.
    expect(() =>
      parseRegistryConfig({
        ...sync,
        ZK_CONNECT: 'zk:2181',
        CLUSTER_ID: 'c',
        EVENT_BUS_NAME: 'kube-zk-sync-dev',
        EKS_ENDPOINT: 'https://example.eks.amazonaws.com',
        EKS_CA_DATA: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
        AWS_REGION: 'eu-west-1',
      }),
    ).not.toThrow();
  });

  test('the sync reads the queue in batches with a window and reports partial batch failures', () => {
    const [[, mapping] = []] = ofType('AWS::Lambda::EventSourceMapping');
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': ['ServiceEventsQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['SyncLambdaFunction', 'Arn'] },
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  test('the queue redrives to the DLQ, with a visibility timeout of at least 6 × the sync timeout', () => {
    const queue = resource('ServiceEventsQueue').Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['ServiceEventsDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * resource('SyncLambdaFunction').Properties.Timeout,
    );
    expect(resource('ServiceEventsDlq').Properties.MessageRetentionPeriod).toBe(1209600);
  });

  test('the reconcile runs on the schedule with {}, and the damage check every minute with {"check": true}', () => {
    const schedules = ofType('AWS::Events::Rule')
      .filter(([, r]) => r.Properties.ScheduleExpression)
      .map(([, r]) => r.Properties);
    expect(schedules).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({ Input: '{}', Arn: { 'Fn::GetAtt': ['ReconcileLambdaFunction', 'Arn'] } }),
        ],
      }),
      expect.objectContaining({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({
            Input: '{"check":true}',
            Arn: { 'Fn::GetAtt': ['ReconcileLambdaFunction', 'Arn'] },
          }),
        ],
      }),
    ]);
    for (const schedule of schedules) {
      const input = JSON.parse((schedule.Targets as Array<{ Input: string }>)[0]?.Input ?? '');
      expect(() => parseReconcileRequest(input)).not.toThrow();
    }
  });

  test("a sync's reconcile requests reach the reconcile: a rule on the bus, a permission, and the sync's right to put them", () => {
    const rule = resource('ReconcileRequestsRule').Properties;
    expect(rule.EventPattern).toEqual({
      source: [RECONCILE_REQUEST_SOURCE],
      'detail-type': [RECONCILE_REQUEST_DETAIL_TYPE],
    });
    expect(rule.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': ['ReconcileLambdaFunction', 'Arn'] } }),
    ]);
    expect(resource('ReconcileRequestsPermission').Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['ReconcileRequestsRule', 'Arn'] },
    });
    const statements = resource('SyncRole').Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'AskForReconcile',
        Action: 'events:PutEvents',
        Condition: {
          StringEquals: {
            'events:source': RECONCILE_REQUEST_SOURCE,
            'events:detail-type': RECONCILE_REQUEST_DETAIL_TYPE,
          },
        },
      }),
    );
  });

  test('the rule feeds the queue (DLQ for failed deliveries); only the forwarder may put its events', async () => {
    const rule = resource('ServiceEventsRule').Properties;
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': ['ServiceEventsQueue', 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['ServiceEventsDlq', 'Arn'] } },
      }),
    ]);
    const deny = resource('OnlyForwarderPutsServiceEventsPolicy').Properties.Statement;
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Action: 'events:PutEvents',
      Condition: {
        StringEquals: { 'events:source': EVENT_SOURCE },
        ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/REPLACE_ME-forwarder' },
      },
    });
    // The policy the stack hands out is the one the forwarder's manifests document: same action, same conditions.
    const handedOut = JSON.parse(template.Outputs.ForwarderPolicy.Value['Fn::Sub'][0]).Statement[0];
    const documented = JSON.parse(await readFile(join(root, 'infra/forwarder/iam-policy.json'), 'utf8'))
      .Statement[0];
    expect(handedOut.Action).toBe(documented.Action);
    expect(handedOut.Condition).toEqual(documented.Condition);
    expect(handedOut.Condition.StringEquals).toEqual({
      'events:source': EVENT_SOURCE,
      'events:detail-type': EVENT_DETAIL_TYPE,
    });
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['EventBusName', 'EventBusArn']));
  });

  test('least privilege: the secret and key statements exist only when their params are set', () => {
    const statements = (role: string) =>
      resource(role).Properties.Policies[0].PolicyDocument.Statement as Array<Record<string, Cfn>>;
    const sync = statements('SyncRole');
    expect(sync.find((s) => s.Sid === 'ReadTheQueue')?.Action).toEqual([
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ]);
    for (const role of ['SyncRole', 'ReconcileRole']) {
      const conditional = statements(role).filter((s) => s['Fn::If']);
      expect(conditional.map((s) => s['Fn::If'][0])).toEqual(['UseSsmParameter', 'UseSecret', 'UseKmsKey']);
      expect(conditional.map((s) => s['Fn::If'][1].Action)).toEqual([
        'ssm:GetParameter',
        'secretsmanager:GetSecretValue',
        'kms:Decrypt',
      ]);
      expect(resource(role).Properties.ManagedPolicyArns).toBeUndefined();
    }
    expect(statements('ReconcileRole').some((s) => String(s.Action).startsWith('sqs:'))).toBe(false);
    expect(template.Conditions.UseSsmParameter).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(resource('ReconcileAccessEntry').Condition).toBe('CreateEksAccessEntry');
  });

  test('the queue and the DLQ take messages from the rule only; no replay role is excepted unless one is given', () => {
    const statements = resource('ServiceEventsQueuePolicy').Properties.PolicyDocument.Statement as Cfn[];
    const ruleArn = { 'Fn::GetAtt': ['ServiceEventsRule', 'Arn'] };
    const notTheRule = { ArnNotEquals: { 'aws:SourceArn': ruleArn } };
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );
    const denies = statements.filter((s) => s.Effect === 'Deny');
    expect(denies.map((s) => [s.Principal, s.Action, s.Resource])).toEqual([
      ['*', 'sqs:SendMessage', { 'Fn::GetAtt': ['ServiceEventsQueue', 'Arn'] }],
      ['*', 'sqs:SendMessage', { 'Fn::GetAtt': ['ServiceEventsDlq', 'Arn'] }],
    ]);
    expect(denies[0].Condition).toEqual({
      'Fn::If': [
        'HasDlqReplayRoles',
        { ...notTheRule, ArnNotLike: { 'aws:PrincipalArn': { 'Fn::Split': [',', ''] } } },
        notTheRule,
      ],
    });
    expect(denies[1].Condition).toEqual(notTheRule);
    expect(template.Conditions.HasDlqReplayRoles).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });

  test('network interfaces: created only in the configured subnets with the configured groups, managed only there', () => {
    const subnets = { 'Fn::Split': [',', 'subnet-REPLACE_ME-a,subnet-REPLACE_ME-b'] };
    const arn = (type: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${type}/*`,
    });
    for (const role of ['SyncRole', 'ReconcileRole']) {
      const ec2 = (resource(role).Properties.Policies[0].PolicyDocument.Statement as Cfn[]).filter((s) =>
        [s.Action ?? []].flat().some((a: string) => a.startsWith('ec2:')),
      );
      expect(ec2, role).toEqual([
        {
          Sid: 'VpcInterfacesInTheSubnets',
          Effect: 'Allow',
          Action: 'ec2:CreateNetworkInterface',
          Resource: arn('subnet'),
          Condition: { StringEquals: { 'ec2:SubnetID': subnets } },
        },
        {
          Sid: 'VpcInterfacesWithTheSecurityGroups',
          Effect: 'Allow',
          Action: 'ec2:CreateNetworkInterface',
          Resource: arn('security-group'),
          Condition: { StringEquals: { 'ec2:SecurityGroupID': { 'Fn::Split': [',', 'sg-REPLACE_ME'] } } },
        },
        {
          Sid: 'VpcNewInterfaces',
          Effect: 'Allow',
          Action: 'ec2:CreateNetworkInterface',
          Resource: arn('network-interface'),
        },
        {
          Sid: 'VpcInterfacesOfTheSubnets',
          Effect: 'Allow',
          Action: [
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          Resource: arn('network-interface'),
          Condition: {
            ArnLikeIfExists: {
              'ec2:Subnet': {
                'Fn::Split': [
                  ',',
                  {
                    'Fn::Join': [
                      '',
                      ['arn:*:ec2:*:*:subnet/', { 'Fn::Join': [',arn:*:ec2:*:*:subnet/', subnets] }],
                    ],
                  },
                ],
              },
            },
          },
        },
        // The one EC2 action on "*": it has no resource-level permission.
        {
          Sid: 'VpcDescribeInterfaces',
          Effect: 'Allow',
          Action: 'ec2:DescribeNetworkInterfaces',
          Resource: '*',
        },
      ]);
    }
  });

  test('kms:Decrypt works only through the service that holds the ZooKeeper credentials', () => {
    for (const role of ['SyncRole', 'ReconcileRole']) {
      const key = (resource(role).Properties.Policies[0].PolicyDocument.Statement as Cfn[]).find(
        (s) => s['Fn::If']?.[0] === 'UseKmsKey',
      );
      expect(key?.['Fn::If'][1].Condition, role).toEqual({
        StringEquals: {
          'kms:ViaService': [
            {
              'Fn::If': [
                'UseSsmParameter',
                { 'Fn::Sub': `ssm.\${AWS::Region}.amazonaws.com` },
                { Ref: 'AWS::NoValue' },
              ],
            },
            {
              'Fn::If': [
                'UseSecret',
                { 'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com` },
                { Ref: 'AWS::NoValue' },
              ],
            },
          ],
        },
      });
    }
  });

  test('the reconcile joins its Kubernetes groups, the sync only the Events one; never an EKS access policy', () => {
    expect(resource('ReconcileAccessEntry').Properties).toEqual({
      ClusterName: 'REPLACE_ME-eks-cluster',
      PrincipalArn: { 'Fn::GetAtt': ['ReconcileRole', 'Arn'] },
      Type: 'STANDARD',
      KubernetesGroups: {
        'Fn::If': [
          'WriteServiceEvents',
          ['kube-zk-sync-reconcile', 'kube-zk-sync-events'],
          ['kube-zk-sync-reconcile'],
        ],
      },
    });
    expect(resource('SyncAccessEntry')).toMatchObject({
      Condition: 'CreateSyncAccessEntry',
      Properties: {
        PrincipalArn: { 'Fn::GetAtt': ['SyncRole', 'Arn'] },
        KubernetesGroups: ['kube-zk-sync-events'],
      },
    });
    expect(JSON.stringify(template)).not.toMatch(/cluster-access-policy|AmazonEKS\w*Policy|AccessPolicies/);
  });

  test('alarms: DLQ depth, reconcile errors and refusals, document size near the limit', () => {
    const alarms = Object.fromEntries(ofType('AWS::CloudWatch::Alarm').map(([n, r]) => [n, r.Properties]));
    expect(alarms.DlqNotEmptyAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ServiceEventsDlq', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.ReconcileErrorsAlarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ReconcileLambdaFunction' } }],
    });
    // The metrics the handlers emit (Powertools EMF: namespace, and the service dimension they set).
    for (const [alarm, metric] of [
      ['DocumentSizeAlarm', 'DocumentBytes'],
      ['ReconcileRefusedAlarm', 'ReconcileRefused'],
      ['IgnoredEventsAlarm', 'RecordsIgnored'],
      ['DamageRepairedAlarm', 'DamageRepaired'],
      ['HandEditsRevertedAlarm', 'HandEditsReverted'],
      ['ConflictsAlarm', 'Conflicts'],
      ['SyncStateUnusableAlarm', 'SyncStateUnusable'],
      ['SyncStateRestartedAlarm', 'SyncStateRestarted'],
      ['EventsFailedAlarm', 'EventsFailed'],
    ]) {
      expect(alarms[alarm as string]).toMatchObject({
        Namespace: 'KubeZkSync',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'kube-zk-sync' }],
      });
    }
    expect(alarms.DocumentSizeAlarm?.Threshold).toBe(900000);
  });

  test("the rule's pattern routes a real forwarder event through the local EventBridge, and the sync applies it", async () => {
    const pattern = resource('ServiceEventsRule').Properties.EventPattern;
    const rules = rulePatternsFromServerlessYml(join(root, 'serverless.yml'));
    // The local endpoint reads the very patterns the template deploys.
    expect(Object.fromEntries(rules.map((r) => [r.name, r.pattern]))).toEqual({
      ServiceEventsRule: pattern,
      ReconcileRequestsRule: resource('ReconcileRequestsRule').Properties.EventPattern,
    });
    const bridge = await LocalEventBridge.start({ rules });
    const client = new EventBridgeClient(bridge.clientConfig());
    const sim = new ApiServerSimulator();
    const service = sim.createService(CART);
    const { store, registry } = registryFromConfig(
      parseRegistryConfig({
        ZK_CONNECT: inject('zkConnect'),
        REGISTRY_PATH: `/test/${randomUUID()}/registry`,
        CLUSTER_ID: 'pkg-cluster',
        ZK_OPEN_ACL: 'true',
      }),
    );
    try {
      const delivered: unknown[] = [];
      bridge.subscribe((d) => delivered.push(d.event));
      const entry = (source: string) => ({
        Source: source,
        DetailType: EVENT_DETAIL_TYPE,
        Detail: JSON.stringify(forwarderDetail('pkg-cluster', service)),
        EventBusName: 'kube-zk-sync-dev',
      });
      const result = await client.send(
        new PutEventsCommand({ Entries: [entry(EVENT_SOURCE), entry('someone.else')] }),
      );
      expect(result.FailedEntryCount).toBe(0);
      expect(delivered).toHaveLength(1);
      expect(compileEventPattern(pattern)(delivered[0])).toBe(true);
      // What the queue hands the sync: the event as the record's body.
      const batch = await syncBatch([sqsRecord(delivered[0])], {
        registry,
        target: registryTarget(
          parseRegistryConfig({ ZK_CONNECT: 'z:1', REGISTRY_PATH: '/r', CLUSTER_ID: 'pkg-cluster' }),
        ),
      });
      expect(batch.report).toMatchObject({ applied: 1, created: 1, documentWritten: true });
    } finally {
      client.destroy();
      store.close();
      await bridge.stop();
    }
  });
});

/** The clients of ZooKeeper credentials (lib/config/credentials.ts), and the command each one sends. */
const CREDENTIAL_CLIENTS = {
  SSMClient: 'GetParameterCommand',
  SecretsManagerClient: 'GetSecretValueCommand',
};

/** Whether the code of `files` defines the class `name` (keepNames leaves the name of every class as a string). */
const defines = async (files: readonly string[], name: string) =>
  (await Promise.all(files.map((f) => readFile(f, 'utf8')))).some((code) => code.includes(`"${name}"`));

describe('the packaged functions, loaded by Node from the zip alone', () => {
  test.each(LAMBDA_FUNCTIONS)(
    '%s: the cold start parses no credential client; each is in the zip and loads on demand',
    async (name) => {
      const fn = packaged.functions[name];
      const chunks = fn.files.filter((f) => f !== fn.entry);
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.every((f) => f.startsWith(`${fn.root}/functions/${name}.chunks/`))).toBe(true);
      // The handler first, as Init imports it; then every other file of the zip, each of which must load.
      const [init, ...onDemand] = (await inLambdaRuntime([fn.entry, ...chunks], { env: COLD_START_ENV }))
        .modules;
      expect(init?.exports).toEqual(['handler']);
      const atInit = init?.loaded ?? [];
      expect(atInit[0]).toBe(fn.entry);
      expect(atInit.every((f) => fn.files.includes(f))).toBe(true);
      const later = fn.files.filter((f) => !atInit.includes(f));
      for (const [client, command] of Object.entries(CREDENTIAL_CLIENTS)) {
        expect(await defines(atInit, client), `${client} parsed at cold start`).toBe(false);
        expect(await defines(later, client), `${client} in the zip`).toBe(true);
        const module = onDemand.find((m) => m.exports.includes(client));
        expect(module?.exports).toEqual(expect.arrayContaining([client, command]));
      }
    },
  );

  test('the sync parses at most 250 KB at cold start', async () => {
    const fn = packaged.functions.sync;
    const [init] = (await inLambdaRuntime([fn.entry], { env: COLD_START_ENV })).modules;
    expect(await bytesOf(init?.loaded ?? [])).toBeLessThanOrEqual(250 * 1024);
  });

  test('with an SSM parameter, the sync loads its client on the first batch and writes as that identity', async () => {
    const { server, calls } = awsJsonEndpoint(({ target, body }) =>
      target === 'AmazonSSM.GetParameter' && body.Name === '/kube-zk-sync/zk-digest'
        ? {
            status: 200,
            body: { Parameter: { Name: body.Name, Type: 'SecureString', Value: 'sync:s3cret' } },
          }
        : { status: 400, body: { __type: 'ParameterNotFound', message: 'not found' } },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const sim = new ApiServerSimulator();
    const service = sim.createService(CART);
    const path = `/test/${randomUUID()}/registry`;
    const fn = packaged.functions.sync;
    const session = await ZkSession.open({ connectString: inject('zkConnect') });
    try {
      const { modules, invoked } = await inLambdaRuntime([fn.entry], {
        env: {
          ZK_CONNECT: inject('zkConnect'),
          REGISTRY_PATH: path,
          CLUSTER_ID: 'pkg-cluster',
          ZK_AUTH_SSM_PARAMETER: '/kube-zk-sync/zk-digest',
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        },
        event: sqsEvent([serviceRecord('pkg-cluster', service)]),
      });
      expect(invoked?.result).toEqual({ batchItemFailures: [] });
      expect(calls).toEqual([
        { target: 'AmazonSSM.GetParameter', body: { Name: '/kube-zk-sync/zk-digest', WithDecryption: true } },
      ]);
      expect(await defines(modules[0]?.loaded ?? [], 'SSMClient')).toBe(false);
      expect(await defines(invoked?.loaded ?? [], 'SSMClient')).toBe(true);
      expect(await defines(invoked?.loaded ?? [], 'SecretsManagerClient')).toBe(false);
      // The document it created: everyone reads, only the identity from the parameter writes.
      const acl = await new Promise<zookeeper.ACL[]>((resolve, reject) =>
        session.client.getACL(path, (error, acls) => (error ? reject(error) : resolve(acls))),
      );
      expect(acl.map((a) => `${a.id.scheme}:${a.id.id.split(':')[0]}`)).toEqual([
        'world:anyone',
        'digest:sync',
      ]);
    } finally {
      session.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the deploy guard (infra/serverless/check-params.mjs)', () => {
  test('refuses an access entry without a group, and a KMS key without the parameter or secret it decrypts', () => {
    const defaults = {
      eksAccessEntry: 'false',
      eksKubernetesGroup: 'kube-zk-sync-reconcile',
      zkAuthKmsKeyArn: '',
    };
    expect(overGrants(defaults)).toEqual([]);
    expect(overGrants({ ...defaults, eksAccessEntry: 'true' })).toEqual([]);
    expect(overGrants({ ...defaults, eksKubernetesGroup: '' })).toEqual([]);
    expect(
      overGrants({ ...defaults, eksAccessEntry: 'true', serviceEvents: 'true', eksEventsGroup: '' }),
    ).toEqual([expect.stringContaining('with an empty eksEventsGroup')]);
    expect(overGrants({ ...defaults, eksAccessEntry: 'true', eksKubernetesGroup: ' ' })).toEqual([
      expect.stringContaining('eksAccessEntry is true with an empty eksKubernetesGroup'),
    ]);
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/k';
    expect(overGrants({ ...defaults, zkAuthKmsKeyArn: key })).toEqual([
      expect.stringContaining('zkAuthKmsKeyArn is set without zkAuthSsmParameterArn or zkAuthSecretArn'),
    ]);
    expect(
      overGrants({ ...defaults, zkAuthKmsKeyArn: key, zkAuthSecretArn: 'arn:aws:secretsmanager:…' }),
    ).toEqual([]);
    // Checked before anything is bundled, and again before a deploy of a prebuilt package.
    const hooks = Object.keys(new CheckParams({}).hooks);
    expect(hooks).toEqual(expect.arrayContaining(['before:package:initialize', 'before:deploy:deploy']));
  });

  test('finds every placeholder left in the params', () => {
    expect(
      placeholders({
        a: 'ok',
        b: 'REPLACE_ME-x',
        c: ['x', 'sub-REPLACE_ME'],
        d: 5,
        e: 'subnet-1,subnet-REPLACE_ME',
      }),
    ).toEqual(['b', 'c[1]', 'e']);
  });

  test('refuses a visibility timeout under 6 × the sync timeout, or a timeout the early stop eats, at package time', () => {
    const serverless = (visibility: number, timeout: number, early = '10000') => ({
      classes: { Error },
      service: {
        provider: {
          compiledCloudFormationTemplate: {
            Resources: {
              ServiceEventsQueue: { Properties: { VisibilityTimeout: visibility } },
              SyncLambdaFunction: {
                Properties: { Timeout: timeout, Environment: { Variables: { TIMEOUT_EARLY_MS: early } } },
              },
            },
          },
        },
      },
    });
    expect(() => new CheckParams(serverless(360, 60)).checkVisibilityTimeout()).not.toThrow();
    expect(() => new CheckParams(serverless(300, 60)).checkVisibilityTimeout()).toThrow(
      'queueVisibilityTimeout (300 s) must be at least 6 × syncTimeout (60 s = 360 s)',
    );
    expect(() => new CheckParams(serverless(120, 20)).checkVisibilityTimeout()).toThrow(
      'SyncLambdaFunction: TIMEOUT_EARLY_MS (10000 ms) leaves less than half of its 20 s timeout to work',
    );
  });
});
