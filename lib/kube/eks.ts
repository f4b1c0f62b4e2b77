// The bearer token EKS accepts, made in-process the way aws-iam-authenticator (and `aws eks get-token`) makes it:
// a SigV4-presigned sts:GetCallerIdentity URL with the cluster name in the signed header x-k8s-aws-id. The Lambda
// runtime has no AWS CLI for an `exec` kubeconfig, and presigning needs no network call.
import { Sha256 } from '@aws-crypto/sha256-js';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export type AwsCredentialProvider = () => Promise<AwsCredentials>;

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** EKS accepts a token for 15 minutes from its signing time; renew well before. */
export const EKS_TOKEN_REUSE_MS = 10 * 60_000;

/** STS's regional endpoint; the China partition has its own domain. */
export const stsHostname = (region: string): string =>
  `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;

export async function eksBearerToken(input: {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly now?: Date;
}): Promise<string> {
  const hostname = stsHostname(input.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
  });
  const signed = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': input.clusterName },
    }),
    // 60 s is what aws-iam-authenticator asks for; EKS honours 15 minutes from X-Amz-Date whatever it says.
    { expiresIn: 60, ...(input.now ? { signingDate: input.now } : {}) },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return EKS_TOKEN_PREFIX + Buffer.from(`https://${hostname}/?${query}`).toString('base64url');
}

/** Must not be the name of a built-in authenticator (exec, oidc, gcp, azure), or that one claims the user first. */
const AUTH_PROVIDER = 'kube-zk-sync-eks';

export interface EksConnection {
  readonly clusterName: string;
  readonly endpoint: string;
  /** Base64 PEM, as `aws eks describe-cluster` returns `certificateAuthority.data`. */
  readonly caData: string;
  readonly region: string;
}

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
  let cached: { token: string; until: number } | undefined;
  kc.addAuthenticator({
    isAuthProvider: (user: User) => user.authProvider?.name === AUTH_PROVIDER,
    applyAuthentication: async (
      _user: User,
      opts: { headers?: Record<string, string | string[] | undefined> },
    ) => {
      const now = clock();
      if (!cached || now >= cached.until) {
        const creds = await credentials();
        const token = await eksBearerToken({ ...connection, credentials: creds, now: new Date(now) });
        // Credentials that expire sooner than the reuse window bound the token's reuse too.
        const expires = creds.expiration ? creds.expiration.getTime() - 60_000 : Number.POSITIVE_INFINITY;
        cached = { token, until: Math.min(now + EKS_TOKEN_REUSE_MS, expires) };
      }
      opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${cached.token}` };
    },
  });
  return kc;
}
