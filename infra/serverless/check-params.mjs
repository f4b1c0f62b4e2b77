// A local Serverless plugin that keeps serverless.yml's placeholders out of AWS: `serverless package` works with them
// (so CI and people can build offline), `serverless deploy` stops before anything is created while one is left.
// It also checks, at package time, that the queue's visibility timeout is at least six times the sync timeout (what
// AWS recommends for an SQS trigger), so a batch still running is never handed to a second invocation, and refuses
// params that would grant more than the functions need (before anything is bundled, and again before a deploy of a
// prebuilt package).
const PLACEHOLDER = 'REPLACE_ME';

/** Why the params, as given, would grant more than the stack should (or nothing the operator meant); empty if fine. */
export function overGrants(params) {
  const found = [];
  const blank = (name) => String(params[name] ?? '').trim() === '';
  if (String(params.eksAccessEntry) === 'true' && blank('eksKubernetesGroup')) {
    found.push(
      'eksAccessEntry is true with an empty eksKubernetesGroup: the reconcile gets no cluster-wide access policy ' +
        '(AmazonEKSViewPolicy reads far more than Services); name the group that RBAC binds to list services',
    );
  }
  if (
    String(params.eksAccessEntry) === 'true' &&
    String(params.serviceEvents) === 'true' &&
    blank('eksEventsGroup')
  ) {
    found.push(
      'eksAccessEntry and serviceEvents are true with an empty eksEventsGroup: the sync would join no group and ' +
        'write no Event; name the group that RBAC binds to create and patch on events',
    );
  }
  if (!blank('zkAuthKmsKeyArn') && blank('zkAuthSsmParameterArn') && blank('zkAuthSecretArn')) {
    found.push(
      'zkAuthKmsKeyArn is set without zkAuthSsmParameterArn or zkAuthSecretArn: the key decrypts only through the ' +
        'service that holds the credentials (kms:ViaService), so give the parameter or the secret it encrypts',
    );
  }
  return found;
}

/** Every param (name → value) that still holds a placeholder, however deep. */
export function placeholders(params) {
  const found = [];
  const visit = (name, value) => {
    if (typeof value === 'string' && value.includes(PLACEHOLDER)) found.push(name);
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) visit(`${name}[${i}]`, v);
  };
  for (const [name, value] of Object.entries(params)) visit(name, value);
  return found;
}

export default class CheckParams {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:initialize': () => this.refuseOverGrants(),
      'before:deploy:deploy': () => {
        this.refusePlaceholders();
        this.refuseOverGrants();
      },
      'before:deploy:function:deploy': () => this.refusePlaceholders(),
      'after:package:finalize': () => this.checkVisibilityTimeout(),
    };
  }

  resolvedParams() {
    // The params as resolved for this stage (defaults, stage values and --param overrides).
    const resolved = this.serverless.configurationInput?.params ?? {};
    const stage = this.serverless.getProvider('aws').getStage();
    const cli = this.serverless.processedInput?.options?.param ?? [];
    const fromCli = Object.fromEntries(
      (Array.isArray(cli) ? cli : [cli]).map((p) => [
        p.slice(0, p.indexOf('=')),
        p.slice(p.indexOf('=') + 1),
      ]),
    );
    return { ...(resolved.default ?? {}), ...(resolved[stage] ?? {}), ...fromCli };
  }

  refusePlaceholders() {
    const left = placeholders(this.resolvedParams());
    if (left.length > 0) {
      throw new this.serverless.classes.Error(
        `refusing to deploy: the params ${left.join(', ')} still hold the ${PLACEHOLDER} placeholders of ` +
          'serverless.yml; give them with --param="name=value" or under params.<stage> (see infra/DEPLOY.md)',
      );
    }
  }

  refuseOverGrants() {
    const found = overGrants(this.resolvedParams());
    if (found.length > 0) {
      throw new this.serverless.classes.Error(
        `refusing the params: ${found.join('; ')} (see infra/DEPLOY.md)`,
      );
    }
  }

  checkVisibilityTimeout() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const visibility = Number(resources.ServiceEventsQueue?.Properties?.VisibilityTimeout);
    const timeout = Number(resources.SyncLambdaFunction?.Properties?.Timeout);
    if (!(visibility >= 6 * timeout)) {
      throw new this.serverless.classes.Error(
        `queueVisibilityTimeout (${visibility} s) must be at least 6 × syncTimeout (${timeout} s = ${6 * timeout} s), ` +
          'or a batch still being written is handed to a second invocation',
      );
    }
    // A handler that gives up earlier than it has time for would fail every invocation.
    for (const name of ['SyncLambdaFunction', 'ReconcileLambdaFunction']) {
      const fn = resources[name]?.Properties;
      const early = Number(fn?.Environment?.Variables?.TIMEOUT_EARLY_MS ?? 0);
      if (fn && early >= (Number(fn.Timeout) * 1000) / 2) {
        throw new this.serverless.classes.Error(
          `${name}: TIMEOUT_EARLY_MS (${early} ms) leaves less than half of its ${fn.Timeout} s timeout to work; ` +
            'raise the timeout',
        );
      }
    }
  }
}
