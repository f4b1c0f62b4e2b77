// A KubeConfig for an EKS cluster for @kubernetes/client-node, authenticated with the bearer token eks-token.ts
// signs in-process.
import { KubeConfig, type User } from '@kubernetes/client-node';
import { type AwsCredentialProvider, cachedEksToken, type EksConnection } from './eks-token.ts';

export {
  type AwsCredentialProvider,
  type AwsCredentials,
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_REUSE_MS,
  type EksConnection,
  eksBearerToken,
  stsHostname,
} from './eks-token.ts';

/** Must not be the name of a built-in authenticator (exec, oidc, gcp, azure), or that one claims the user first. */
const AUTH_PROVIDER = 'kube-zk-sync-eks';

/**
 * A KubeConfig for an EKS cluster whose every request carries a fresh enough bearer token signed with the
 * credentials the provider returns (the Lambda role's). The token is reused for ten minutes.
 */
export function eksKubeConfig(
  connection: EksConnection,
  credentials: AwsCredentialProvider,
  clock: () => number = Date.now,
): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: connection.clusterName,
        server: connection.endpoint,
        caData: connection.caData,
        // An http endpoint is a test server; client-node refuses http without this flag.
        skipTLSVerify: connection.endpoint.startsWith('http:'),
      },
    ],
    users: [{ name: 'kube-zk-sync', authProvider: { name: AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: 'kube-zk-sync', cluster: connection.clusterName, user: 'kube-zk-sync' }],
    currentContext: 'kube-zk-sync',
  });
  const token = cachedEksToken(connection, credentials, clock);
  kc.addAuthenticator({
    isAuthProvider: (user: User) => user.authProvider?.name === AUTH_PROVIDER,
    applyAuthentication: async (
      _user: User,
      opts: { headers?: Record<string, string | string[] | undefined> },
    ) => {
      opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${await token()}` };
    },
  });
  return kc;
}
