// The bearer token EKS accepts, made in-process the way aws-iam-authenticator (and `aws eks get-token`) makes it:
// a SigV4-presigned sts:GetCallerIdentity URL with the cluster name in the signed header x-k8s-aws-id. The Lambda
// runtime has no AWS CLI for an `exec` kubeconfig, and presigning needs no network call. Apart from eks.ts (the
// KubeConfig for @kubernetes/client-node) so that a caller without that client, the sync's Event writer, signs too.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { KubeConnection } from './service-events.ts';

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

/**
 * A token source that signs a new token only when the last one is ten minutes old, or its credentials are about to
 * expire: the tokens of one container for every request it makes.
 */
export function cachedEksToken(
  connection: Pick<EksConnection, 'clusterName' | 'region'>,
  credentials: AwsCredentialProvider,
  clock: () => number = Date.now,
): () => Promise<string> {
  let cached: { token: string; until: number } | undefined;
  return async () => {
    const now = clock();
    if (!cached || now >= cached.until) {
      const creds = await credentials();
      const token = await eksBearerToken({ ...connection, credentials: creds, now: new Date(now) });
      // Credentials that expire sooner than the reuse window bound the token's reuse too.
      const expires = creds.expiration ? creds.expiration.getTime() - 60_000 : Number.POSITIVE_INFINITY;
      cached = { token, until: Math.min(now + EKS_TOKEN_REUSE_MS, expires) };
    }
    return cached.token;
  };
}

export interface EksConnection {
  readonly clusterName: string;
  readonly endpoint: string;
  /** Base64 PEM, as `aws eks describe-cluster` returns `certificateAuthority.data`. */
  readonly caData: string;
  readonly region: string;
}

/**
 * How a writer without @kubernetes/client-node reaches the EKS cluster (lib/kube/service-events.ts): its endpoint,
 * its certificate authority, and a token signed with the credentials the provider returns, renewed as above.
 */
export function eksKubeConnection(
  connection: EksConnection,
  credentials: AwsCredentialProvider,
  clock: () => number = Date.now,
): KubeConnection {
  const token = cachedEksToken(connection, credentials, clock);
  const ca = Buffer.from(connection.caData, 'base64');
  return {
    server: connection.endpoint,
    prepare: async () => ({ headers: { authorization: `Bearer ${await token()}` }, ca }),
  };
}
