import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  rulePatternsFromServerlessYml,
  rulePatternsFromServerlessYmlText,
  ServerlessRulesError,
} from '../../../lib/local/eventbridge/serverless-rules.ts';

// Uses every form of CloudFormation short tag a real serverless.yml tends to hold, around the rules.
const fixture = `
service: kube-zk-sync
custom:
  busName: kube-zk-sync-\${sls:stage}
provider:
  name: aws
  runtime: nodejs22.x
  iam:
    role:
      statements:
        - Effect: Allow
          Action: [sqs:SendMessage]
          Resource: !GetAtt ServiceEventsQueue.Arn
        - Effect: Allow
          Action: [ssm:GetParameter]
          Resource: !Sub arn:aws:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/kube-zk-sync/*
        - Effect: Allow
          Action: [logs:PutLogEvents]
          Resource: !Join [':', [arn:aws:logs, !Ref AWS::Region, '*']]
        - Effect: Allow
          Action: [events:PutEvents]
          Resource: !GetAtt [ServiceEventsBus, Arn]
          Condition: !If [IsProd, {Bool: {aws:SecureTransport: true}}, !Ref AWS::NoValue]
resources:
  Conditions:
    IsProd: !Equals [!Sub '\${sls:stage}', prod]
  Resources:
    ServiceEventsBus:
      Type: AWS::Events::EventBus
      Properties:
        Name: \${self:custom.busName}
    ServiceEventsQueue:
      Type: AWS::SQS::Queue
      Properties:
        RedrivePolicy:
          deadLetterTargetArn: !GetAtt ServiceEventsDlq.Arn
          maxReceiveCount: 5
    ServiceEventsRule:
      Type: AWS::Events::Rule
      Properties:
        EventBusName: !Ref ServiceEventsBus
        EventPattern:
          source: [kube-zk-sync]
          detail-type: [Kubernetes Service observed]
          detail:
            v: [1]
            reason: [{ anything-but: [list] }]
        Targets:
          - Arn: !GetAtt ServiceEventsQueue.Arn
            Id: queue
    LiteralBusRule:
      Type: AWS::Events::Rule
      Properties:
        EventBusName: audit
        EventPattern: '{"source": ["kube-zk-sync"], "detail": {"reason": ["deleted"]}}'
    ReconcileSchedule:
      Type: AWS::Events::Rule
      Properties:
        ScheduleExpression: rate(15 minutes)
        Targets:
          - Arn: !GetAtt ReconcileLambdaFunction.Arn
            Id: reconcile
`;

describe('rulePatternsFromServerlessYml', () => {
  test('reads the pattern of every AWS::Events::Rule, tolerating CloudFormation tags elsewhere', () => {
    expect(rulePatternsFromServerlessYmlText(fixture)).toStrictEqual([
      {
        name: 'ServiceEventsRule',
        pattern: {
          source: ['kube-zk-sync'],
          'detail-type': ['Kubernetes Service observed'],
          detail: { v: [1], reason: [{ 'anything-but': ['list'] }] },
        },
      },
      {
        name: 'LiteralBusRule',
        eventBusName: 'audit',
        pattern: { source: ['kube-zk-sync'], detail: { reason: ['deleted'] } },
      },
    ]);
  });

  test('reads a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-rules-'));
    try {
      const path = join(dir, 'serverless.yml');
      await writeFile(path, fixture);
      expect(rulePatternsFromServerlessYml(path).map((r) => r.name)).toStrictEqual([
        'ServiceEventsRule',
        'LiteralBusRule',
      ]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  test('a file without rules gives none', () => {
    expect(rulePatternsFromServerlessYmlText('service: x\nprovider: {name: aws}\n')).toStrictEqual([]);
  });

  const rule = (pattern: string) => `
resources:
  Resources:
    Bad:
      Type: AWS::Events::Rule
      Properties:
        EventPattern:
${pattern}
`;

  test.each([
    [
      'a Serverless variable',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless variable, written as it appears in YAML
      rule("          source: ['${self:service}']"),
      /EventPattern\.source\[0\] holds the Serverless variable "\$\{self:service\}"/,
    ],
    [
      'a CloudFormation function',
      rule('          source: [!Ref Source]'),
      /EventPattern\.source\[0\] uses the CloudFormation function Ref/,
    ],
    [
      'a pattern the matcher refuses',
      rule('          source: kube-zk-sync'),
      /Resources\.Bad\.Properties\.EventPattern: event pattern at source/,
    ],
    [
      'a string pattern that is not JSON',
      rule("          '{source'").replace('EventPattern:\n', 'EventPattern: '),
      /is a string but not JSON/,
    ],
    ['invalid YAML', 'resources: [\n', /serverless.yml is not valid YAML/],
  ])('refuses %s with a message naming the place', (_, text, message) => {
    expect(() => rulePatternsFromServerlessYmlText(text)).toThrow(ServerlessRulesError);
    expect(() => rulePatternsFromServerlessYmlText(text)).toThrow(message);
  });
});
