// The logger and metrics every handler uses: JSON logs and CloudWatch embedded metrics on stdout, so a function in
// a VPC needs no endpoint for either.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export function powertools(env: Readonly<Record<string, string | undefined>> = process.env): {
  logger: Logger;
  metrics: Metrics;
} {
  const serviceName = env.POWERTOOLS_SERVICE_NAME ?? 'kube-zk-sync';
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'KubeZkSync', serviceName }),
  };
}
