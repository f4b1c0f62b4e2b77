// Attacks that no code of kube-zk-sync refuses, because the infrastructure around it does, each tried and refused:
// - on AWS: the template as `serverless package` compiles it, with every optional param set, resolved as the stack
//   would be (test/support/cloudformation.ts) and decided as IAM decides (test/support/iam-policy.ts): forged
//   events on the queue, the functions' credentials used against the rest of the VPC or the KMS key, the reconcile
//   given the whole cluster;
// - in the cluster: the forwarder's NetworkPolicy as kustomize renders it, under the API's semantics
//   (test/support/network-policy.ts): tenants reaching the forwarder, the forwarder reaching anything else;
// - on a developer's machine or in CI: a dependency's install script that nobody reviewed, against a real npm.
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolver, type Stack } from '../support/cloudformation.ts';
import { decide, type Principal, type Request, type Statement } from '../support/iam-policy.ts';
import { type K8sObject, kustomize, theOne } from '../support/kustomize.ts';
import { packageService } from '../support/lambda-bundle.ts';
import {
  admitsEgress,
  admitsIngress,
  type Connection,
  type NetworkPolicy,
  type Peer,
  selects,
} from '../support/network-policy.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SUBNETS = ['subnet-0aaa1111aaaa1111a', 'subnet-0bbb2222bbbb2222b'];
const SECURITY_GROUP = 'sg-0ccc3333cccc3333c';
const SSM_PARAMETER = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/kube-zk-sync/prod/zk-digest`;
const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1f2e3d4c-0000-4000-8000-000000000001`;
const REPLAY_ROLE = `arn:aws:iam::${ACCOUNT}:role/ops-dlq-replay`;

/** Every optional param set, so that every conditional statement is in the template. */
const PARAMS = {
  subnetIds: SUBNETS.join(','),
  securityGroupIds: SECURITY_GROUP,
  zkAuthSsmParameterArn: SSM_PARAMETER,
  zkAuthKmsKeyArn: KMS_KEY,
  dlqReplayRoleArns: REPLAY_ROLE,
  eksAccessEntry: 'true',
};

/** What CloudFormation would resolve the stack's own resources to. */
const STACK: Stack = {
  region: REGION,
  accountId: ACCOUNT,
  resources: {
    'ServiceEventsQueue.Arn': `arn:aws:sqs:${REGION}:${ACCOUNT}:kube-zk-sync-dev-ServiceEventsQueue-1A2B3C`,
    'ServiceEventsDlq.Arn': `arn:aws:sqs:${REGION}:${ACCOUNT}:kube-zk-sync-dev-ServiceEventsDlq-4D5E6F`,
    'ServiceEventsRule.Arn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/kube-zk-sync-dev/kube-zk-sync-dev-ServiceEventsRule-7A8B`,
    'ServiceEventsBus.Arn': `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/kube-zk-sync-dev`,
    'SyncLogGroup.Arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/kube-zk-sync-dev-sync:*`,
    'ReconcileLogGroup.Arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/kube-zk-sync-dev-reconcile:*`,
    'ReconcileRole.Arn': `arn:aws:iam::${ACCOUNT}:role/kube-zk-sync-dev-ReconcileRole-9C0D`,
    'SyncRole.Arn': `arn:aws:iam::${ACCOUNT}:role/kube-zk-sync-dev-SyncRole-5E1F`,
  },
};

const QUEUE = STACK.resources['ServiceEventsQueue.Arn'] as string;
const DLQ = STACK.resources['ServiceEventsDlq.Arn'] as string;
const RULE = STACK.resources['ServiceEventsRule.Arn'] as string;

/** An identity allowed everything by its own policies: an administrator of the account. */
const ADMIN: Statement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
const role = (name: string): Principal => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${name}` });

// biome-ignore lint/suspicious/noExplicitAny: generated CloudFormation JSON, read by path.
let template: any;
let queuePolicy: Statement[];
let roles: Record<'SyncRole' | 'ReconcileRole', Statement[]>;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'kube-zk-sync-adversarial-'));
  const packaged = await packageService(out, PARAMS);
  template = JSON.parse(
    await readFile(join(packaged.artifacts, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  const { value } = resolver(template, STACK);
  const statements = (document: unknown) => (value(document) as { Statement: Statement[] }).Statement;
  queuePolicy = statements(template.Resources.ServiceEventsQueuePolicy.Properties.PolicyDocument);
  roles = {
    SyncRole: statements(template.Resources.SyncRole.Properties.Policies[0].PolicyDocument),
    ReconcileRole: statements(template.Resources.ReconcileRole.Properties.Policies[0].PolicyDocument),
  };
}, 180_000);
afterAll(() => rm(out, { recursive: true, force: true }));

describe('AWS: nobody but the rule puts a message on the queues', () => {
  const send = (principal: Principal, queue: string, context?: Record<string, string>): Request => ({
    principal,
    action: 'sqs:SendMessage',
    resource: queue,
    ...(context ? { context } : {}),
  });

  test('an administrator of the account cannot put a forged Service event on the queue or the DLQ', () => {
    for (const queue of [QUEUE, DLQ]) {
      for (const principal of [role('Admin'), role('kube-zk-sync-forwarder'), role('tenant-ci')]) {
        expect(decide(send(principal, queue), { identity: ADMIN, resource: queuePolicy })).toBe(
          'denied explicitly',
        );
      }
    }
  });

  test('EventBridge delivering for any other rule, or another service, is refused', () => {
    const otherRule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/shared-bus/tenant-rule`;
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:tenant-topic`;
    for (const queue of [QUEUE, DLQ]) {
      expect(
        decide(send({ service: 'events.amazonaws.com' }, queue, { 'aws:SourceArn': otherRule }), {
          resource: queuePolicy,
        }),
      ).toBe('denied explicitly');
      expect(
        decide(send({ service: 'sns.amazonaws.com' }, queue, { 'aws:SourceArn': topic }), {
          resource: queuePolicy,
        }),
      ).toBe('denied explicitly');
    }
  });

  test('the rule delivers to the queue, and its failed deliveries to the DLQ', () => {
    for (const queue of [QUEUE, DLQ]) {
      expect(
        decide(send({ service: 'events.amazonaws.com' }, queue, { 'aws:SourceArn': RULE }), {
          resource: queuePolicy,
        }),
      ).toBe('allowed');
    }
  });

  test('the replay role moves the DLQ back into the queue, and cannot write the DLQ; without the param, nobody replays', () => {
    const replayer: Statement[] = [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE }];
    const principal = { arn: REPLAY_ROLE };
    expect(decide(send(principal, QUEUE), { identity: replayer, resource: queuePolicy })).toBe('allowed');
    expect(decide(send(principal, DLQ), { identity: ADMIN, resource: queuePolicy })).toBe(
      'denied explicitly',
    );
    // The same template as packaged without dlqReplayRoleArns (the condition is then `"" != ""`).
    const withoutReplay = resolver(
      {
        Conditions: {
          ...template.Conditions,
          HasDlqReplayRoles: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
        },
      },
      STACK,
    );
    const closed = (
      withoutReplay.value(template.Resources.ServiceEventsQueuePolicy.Properties.PolicyDocument) as {
        Statement: Statement[];
      }
    ).Statement;
    expect(decide(send(principal, QUEUE), { identity: ADMIN, resource: closed })).toBe('denied explicitly');
  });
});

describe("AWS: the functions' credentials, taken from a function, reach nothing else", () => {
  const ec2 = (type: string, id: string, region = REGION, account = ACCOUNT) =>
    `arn:aws:ec2:${region}:${account}:${type}/${id}`;
  const subnetArn = (id: string) => ec2('subnet', id);
  const asRole = (
    name: keyof typeof roles,
    action: string,
    resource: string,
    context?: Record<string, string>,
  ) =>
    decide(
      { principal: role(name), action, resource, ...(context ? { context } : {}) },
      { identity: roles[name] },
    );
  /** CreateNetworkInterface is authorised on each resource it names: the subnet, each group, the new interface. */
  const createInterface = (name: keyof typeof roles, subnet: string, group: string, region = REGION) =>
    [
      asRole(name, 'ec2:CreateNetworkInterface', ec2('subnet', subnet, region), { 'ec2:SubnetID': subnet }),
      asRole(name, 'ec2:CreateNetworkInterface', ec2('security-group', group, region), {
        'ec2:SecurityGroupID': group,
      }),
      asRole(name, 'ec2:CreateNetworkInterface', ec2('network-interface', '*', region)),
    ].every((d) => d === 'allowed');

  test.each(['SyncRole', 'ReconcileRole'] as const)(
    '%s: an interface only in the configured subnets with the configured group',
    (name) => {
      for (const subnet of SUBNETS) expect(createInterface(name, subnet, SECURITY_GROUP)).toBe(true);
      // The nodes' subnet, a group that opens more, another region.
      expect(createInterface(name, 'subnet-0eee5555eeee5555e', SECURITY_GROUP)).toBe(false);
      expect(createInterface(name, SUBNETS[0] as string, 'sg-0fff6666ffff6666f')).toBe(false);
      expect(createInterface(name, SUBNETS[0] as string, SECURITY_GROUP, 'us-east-1')).toBe(false);
    },
  );

  test.each(['SyncRole', 'ReconcileRole'] as const)(
    "%s: cannot delete another subnet's interface or strip its addresses (a node's pods live on them)",
    (name) => {
      const nodeInterface = ec2('network-interface', 'eni-0node0000node0000');
      for (const action of [
        'ec2:DeleteNetworkInterface',
        'ec2:UnassignPrivateIpAddresses',
        'ec2:AssignPrivateIpAddresses',
      ]) {
        expect(
          asRole(name, action, nodeInterface, { 'ec2:Subnet': subnetArn('subnet-0eee5555eeee5555e') }),
        ).toBe('denied implicitly');
        expect(asRole(name, action, nodeInterface, { 'ec2:Subnet': subnetArn(SUBNETS[1] as string) })).toBe(
          'allowed',
        );
      }
      expect(
        asRole(
          name,
          'ec2:DeleteNetworkInterface',
          ec2('network-interface', 'eni-0', REGION, '444455556666'),
          {
            'ec2:Subnet': subnetArn(SUBNETS[0] as string),
          },
        ),
      ).toBe('denied implicitly');
      // No other EC2 action at all.
      for (const action of [
        'ec2:ModifyNetworkInterfaceAttribute',
        'ec2:AttachNetworkInterface',
        'ec2:RunInstances',
      ]) {
        expect(asRole(name, action, nodeInterface, { 'ec2:Subnet': subnetArn(SUBNETS[0] as string) })).toBe(
          'denied implicitly',
        );
      }
    },
  );

  test.each(['SyncRole', 'ReconcileRole'] as const)(
    '%s: the KMS key decrypts only through SSM, for the parameter it may read',
    (name) => {
      const decrypt = (context?: Record<string, string>) => asRole(name, 'kms:Decrypt', KMS_KEY, context);
      expect(decrypt({ 'kms:ViaService': `ssm.${REGION}.amazonaws.com` })).toBe('allowed');
      expect(decrypt()).toBe('denied implicitly');
      expect(decrypt({ 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` })).toBe(
        'denied implicitly',
      );
      expect(decrypt({ 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).toBe('denied implicitly');
      expect(decrypt({ 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' })).toBe('denied implicitly');
      expect(asRole(name, 'ssm:GetParameter', SSM_PARAMETER)).toBe('allowed');
      expect(
        asRole(name, 'ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/other-team/db`),
      ).toBe('denied implicitly');
    },
  );
});

describe('AWS: the reconcile never gets the whole cluster', () => {
  // The reconcile's second group, and the sync's only one, may only write Events on Services (DEPLOY.md, step 5b):
  // the sync can read nothing of the cluster.
  test.each([
    [
      'the reconcile',
      'ReconcileAccessEntry',
      'ReconcileRole.Arn',
      ['kube-zk-sync-reconcile', 'kube-zk-sync-events'],
    ],
    ['the sync', 'SyncAccessEntry', 'SyncRole.Arn', ['kube-zk-sync-events']],
  ])(
    'the access entry of %s puts it in its RBAC groups, with no access policy',
    (_who, entry, role, groups) => {
      expect(resolver(template, STACK).value(template.Resources[entry].Properties)).toEqual({
        ClusterName: 'REPLACE_ME-eks-cluster',
        PrincipalArn: STACK.resources[role],
        Type: 'STANDARD',
        KubernetesGroups: groups,
      });
    },
  );

  test('an empty group is refused before anything is built, rather than falling back to a view policy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-refused-'));
    try {
      const refused = packageService(dir, { ...PARAMS, eksKubernetesGroup: ' ' });
      await expect(refused).rejects.toMatchObject({
        stdout: expect.stringContaining('eksAccessEntry is true with an empty eksKubernetesGroup'),
      });
      await expect(access(join(dir, 'artifacts'))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("The cluster: the forwarder's NetworkPolicy", () => {
  const FORWARDER = { 'app.kubernetes.io/name': 'kube-zk-sync-forwarder' };
  let policies: { base: NetworkPolicy; example: NetworkPolicy };

  beforeAll(async () => {
    const policy = (objects: K8sObject[]) => theOne(objects, 'NetworkPolicy') as unknown as NetworkPolicy;
    const [base, example] = await Promise.all([
      kustomize(join(root, 'infra/forwarder/base')),
      kustomize(join(root, 'infra/forwarder/overlays/example')),
    ]);
    policies = { base: policy(base), example: policy(example) };
  });

  const tcp = (peer: Peer, port: number): Connection => ({ peer, port, protocol: 'TCP' });
  const tenantPod: Peer = { namespace: 'tenant-evil', podLabels: { app: 'x' }, ip: '10.0.64.7' };

  test('it applies to the forwarder pods', () => {
    expect(selects(policies.base, FORWARDER)).toBe(true);
    expect(selects(policies.example, FORWARDER)).toBe(true);
  });

  test("a tenant's pod reaches no port of the forwarder, even from a namespace labelled like the monitoring one", () => {
    for (const port of [8080, 9090, 22])
      expect(admitsIngress(policies.base, tcp(tenantPod, port))).toBe(false);
    const lookalike: Peer = {
      namespace: 'tenant-evil',
      namespaceLabels: { name: 'monitoring', 'app.kubernetes.io/part-of': 'monitoring', monitoring: 'true' },
      podLabels: { 'app.kubernetes.io/name': 'prometheus' },
    };
    expect(admitsIngress(policies.base, tcp(lookalike, 8080))).toBe(false);
    // The scraping namespace reaches the metrics port, and only it.
    const prometheus: Peer = {
      namespace: 'monitoring',
      podLabels: { 'app.kubernetes.io/name': 'prometheus' },
    };
    expect(admitsIngress(policies.base, tcp(prometheus, 8080))).toBe(true);
    expect(admitsIngress(policies.base, tcp(prometheus, 9229))).toBe(false);
    // The example overlay moves it to its own namespace: the default one is then refused.
    expect(admitsIngress(policies.example, tcp({ ...prometheus, namespace: 'observability' }, 8080))).toBe(
      true,
    );
    expect(admitsIngress(policies.example, tcp(prometheus, 8080))).toBe(false);
  });

  test('the forwarder cannot reach ZooKeeper, the node metadata (its role), a DNS server of a tenant, or any port but 443', () => {
    const refused: Connection[] = [
      tcp({ ip: '10.0.12.34' }, 2181), // ZooKeeper
      tcp({ ip: '169.254.169.254' }, 80), // the node's instance metadata: the node role's credentials
      tcp({ ip: 'fd00:ec2::254' }, 80),
      { peer: { ...tenantPod, podLabels: { 'k8s-app': 'kube-dns' } }, port: 53, protocol: 'UDP' }, // a lookalike DNS
      { peer: { ip: '8.8.8.8' }, port: 53, protocol: 'UDP' },
      tcp({ ip: '203.0.113.66' }, 80),
      tcp({ ip: '203.0.113.66' }, 22),
      tcp(tenantPod, 8080),
    ];
    for (const policy of [policies.base, policies.example]) {
      for (const connection of refused)
        expect(admitsEgress(policy, connection), JSON.stringify(connection)).toBe(false);
    }
  });

  test('it reaches DNS, the apiserver, EventBridge and STS; with the example overlay, HTTPS only inside the VPC', () => {
    const dns: Peer = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };
    const apiserver: Peer = { ip: '10.0.1.20' };
    const eventbridge: Peer = { ip: '52.94.0.10' };
    for (const policy of [policies.base, policies.example]) {
      expect(admitsEgress(policy, { peer: dns, port: 53, protocol: 'UDP' })).toBe(true);
      expect(admitsEgress(policy, tcp(dns, 53))).toBe(true);
      expect(admitsEgress(policy, tcp(apiserver, 443))).toBe(true);
      expect(admitsEgress(policy, tcp({ ip: '169.254.170.23' }, 80))).toBe(true); // the Pod Identity Agent
    }
    expect(admitsEgress(policies.base, tcp(eventbridge, 443))).toBe(true);
    expect(admitsEgress(policies.example, tcp(eventbridge, 443))).toBe(false);
    expect(admitsEgress(policies.example, tcp({ ip: '10.0.200.5' }, 443))).toBe(true); // an interface endpoint
  });
});

describe('npm: an install script nobody reviewed does not run', () => {
  test('every dependency with an install script is named in allowScripts, and no name is left over', async () => {
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8'));
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    const { allowScripts } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(Object.keys(allowScripts).sort()).toEqual([...new Set(withScripts)].sort());
    expect(Object.values(allowScripts).every((v) => typeof v === 'boolean')).toBe(true);
  });

  test("with the repository's .npmrc, npm stops at a dependency whose postinstall is unreviewed, and it never runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-npm-'));
    try {
      // A dependency whose postinstall leaves a mark where it ran.
      await mkdir(join(dir, 'evil'));
      await writeFile(
        join(dir, 'evil/package.json'),
        JSON.stringify({
          name: 'evil',
          version: '1.0.0',
          scripts: {
            postinstall: "node -e \"require('fs').writeFileSync(process.env.INIT_CWD + '/PWNED', '')\"",
          },
        }),
      );
      const env = { PATH: process.env.PATH, HOME: dir, npm_config_cache: join(dir, 'cache') };
      await run('npm', ['pack', '--silent'], { cwd: join(dir, 'evil'), env });
      const project = async (name: string, npmrc: boolean) => {
        const path = join(dir, name);
        await mkdir(path);
        await copyFile(join(dir, 'evil/evil-1.0.0.tgz'), join(path, 'evil-1.0.0.tgz'));
        await writeFile(
          join(path, 'package.json'),
          JSON.stringify({
            name,
            version: '1.0.0',
            private: true,
            dependencies: { evil: 'file:evil-1.0.0.tgz' },
          }),
        );
        if (npmrc) await copyFile(join(root, '.npmrc'), join(path, '.npmrc'));
        return path;
      };
      const install = (cwd: string) =>
        run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd, env, timeout: 60_000 });
      const marked = (cwd: string) =>
        access(join(cwd, 'PWNED')).then(
          () => true,
          () => false,
        );

      const guarded = await project('guarded', true);
      await expect(install(guarded)).rejects.toMatchObject({
        stderr: expect.stringContaining('ESTRICTALLOWSCRIPTS'),
      });
      expect(await marked(guarded)).toBe(false);
      // The same install without the repository's setting runs the script: the setting is what stops it.
      const open = await project('open', false);
      await install(open);
      expect(await marked(open)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
