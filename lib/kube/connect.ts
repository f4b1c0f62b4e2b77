// Where the reconcile reaches the Kubernetes API: an EKS cluster with a presigned token (the Lambda), or a kubeconfig
// file (the CLI, and any cluster elsewhere).
import type { RequestOptions } from 'node:https';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LIST_PAGE_TIMEOUT_MS } from '../util/defaults.ts';
import { messageOf } from '../util/errors.ts';
import { type AwsCredentialProvider, type EksConnection, eksKubeConfig } from './eks.ts';
import { type ServiceListApi, serviceListApi } from './list.ts';
import type { KubeConnection } from './service-events.ts';

export type KubeSource =
  | ({ readonly kind: 'eks' } & EksConnection)
  /** A kubeconfig file (undefined: $KUBECONFIG, ~/.kube/config, then in-cluster, as kubectl looks). */
  | { readonly kind: 'kubeconfig'; readonly file?: string; readonly context?: string };

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** The AWS SDK's default credential chain (environment, container, instance role…), loaded only for EKS. */
async function defaultCredentials(): Promise<AwsCredentialProvider> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider() as AwsCredentialProvider;
}

export async function kubeConfigFor(
  source: KubeSource,
  credentials?: AwsCredentialProvider,
): Promise<KubeConfig> {
  if (source.kind === 'eks') return eksKubeConfig(source, credentials ?? (await defaultCredentials()));
  const kc = new KubeConfig();
  try {
    if (source.file) kc.loadFromFile(source.file);
    else kc.loadFromDefault();
    if (source.context) kc.setCurrentContext(source.context);
  } catch (error) {
    throw new KubeConfigError(
      `cannot load the kubeconfig ${source.file ?? '(default)'}: ${messageOf(error)}`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    const where = source.file ?? 'the default kubeconfig';
    throw new KubeConfigError(
      source.context
        ? `${where} has no context "${source.context}" with a cluster`
        : `${where} has no current context with a cluster; pass a context or set current-context`,
    );
  }
  return kc;
}

/** The Service list of the cluster `kc` names, with a deadline on every page. */
export const serviceListApiFor = (kc: KubeConfig, pageTimeoutMs = LIST_PAGE_TIMEOUT_MS): ServiceListApi =>
  serviceListApi(kc.makeApiClient(CoreV1Api), { pageTimeoutMs });

/** How the Event writer (service-events.ts) reaches the cluster `kc` names, with its credentials. */
export function kubeConnectionFor(kc: KubeConfig): KubeConnection {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new KubeConfigError('the kubeconfig has no current cluster');
  return {
    server,
    prepare: async () => {
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      return options as Awaited<ReturnType<KubeConnection['prepare']>>;
    },
  };
}

/** The API server a KubeConfig talks to, for messages. */
export const serverOf = (kc: KubeConfig): string | undefined => kc.getCurrentCluster()?.server;
