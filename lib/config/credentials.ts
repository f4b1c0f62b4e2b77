// The ZooKeeper digest identity of the Lambdas, read once per cold start from SSM Parameter Store (a SecureString)
// or Secrets Manager, so that the password is in neither the template nor the environment. The SDK clients are
// loaded only when a source is configured, which keeps them off the cold start of a ZooKeeper without ACLs.
import { describeError as describe } from '../util/errors.ts';
import { parseDigest } from '../zk/digest-credentials.ts';
import type { DigestCredentials } from '../zk/session.ts';
import { ConfigError, type CredentialSource } from './config.ts';

/** The credentials `text` holds; `origin` names where it came from, for the error. */
export function parseDigestCredentials(text: string, origin: string): DigestCredentials {
  const parsed = parseDigest(text);
  if ('problem' in parsed) throw new ConfigError(`${origin}: ${parsed.problem}`);
  return parsed.credentials;
}

export interface CredentialClients {
  /** Endpoint override (a local test endpoint); the region and credentials come from the usual chain. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Static AWS credentials instead of the default chain (a local test endpoint). */
  readonly awsCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Fetches the credentials the source names; undefined for a ZooKeeper without ACLs. */
export async function fetchZkCredentials(
  source: CredentialSource,
  clients: CredentialClients = {},
): Promise<DigestCredentials | undefined> {
  const options = {
    ...(clients.endpoint ? { endpoint: clients.endpoint } : {}),
    ...(clients.region ? { region: clients.region } : {}),
    ...(clients.awsCredentials ? { credentials: clients.awsCredentials } : {}),
    maxAttempts: 3,
  };
  if (source.kind === 'none') return undefined;
  if (source.kind === 'ssm') {
    const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
    const client = new SSMClient(options);
    const where = `${source.setting}="${source.name}"`;
    try {
      const { Parameter } = await client.send(
        new GetParameterCommand({ Name: source.name, WithDecryption: true }),
      );
      if (Parameter?.Type !== 'SecureString') {
        throw new ConfigError(
          `${where} is a ${Parameter?.Type ?? 'parameter without a type'}; store the ZooKeeper password as a SecureString`,
        );
      }
      return parseDigestCredentials(Parameter.Value ?? '', `the SSM parameter ${where}`);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(
        `cannot read the SSM parameter ${where} (${describe(error)}); check its name, ssm:GetParameter on it, ` +
          'and kms:Decrypt on its key',
      );
    } finally {
      client.destroy();
    }
  }
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(options);
  const where = `${source.setting}="${source.secretId}"`;
  try {
    const secret = await client.send(new GetSecretValueCommand({ SecretId: source.secretId }));
    if (secret.SecretString === undefined) {
      throw new ConfigError(
        `the secret ${where} holds binary data; store the credentials as a secret string`,
      );
    }
    return parseDigestCredentials(secret.SecretString, `the secret ${where}`);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `cannot read the secret ${where} (${describe(error)}); check its name, secretsmanager:GetSecretValue on it, ` +
        'and kms:Decrypt on its key',
    );
  } finally {
    client.destroy();
  }
}
