// The defaults people read are the defaults the code applies: the configuration tables of infra/DEPLOY.md and
// infra/forwarder/README.md, and README's CLI section, against lib/util/defaults.ts and the settings built on it.
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { DEFAULTS, parseReconcileConfig } from '../../lib/config/config.ts';
import { SETTINGS } from '../../lib/forwarder/config.ts';
import { ZK_TIMEOUT_MS } from '../../lib/util/defaults.ts';

const text = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The rows of every Markdown table in `markdown`: their cells with the backticks and spaces taken off. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim().replace(/`/g, '')),
    );
}

describe('infra/DEPLOY.md', () => {
  const config = parseReconcileConfig({ ZK_CONNECT: 'zk:2181', REGISTRY_PATH: '/r', CLUSTER_ID: 'c' });
  const applied: Record<string, string> = {
    POLICY: config.policy,
    MAX_DELETE_SHARE: String(config.maxDeleteShare),
    MAX_DOCUMENT_BYTES: String(config.zk.maxDataBytes),
    ZK_SESSION_TIMEOUT_MS: String(config.zk.sessionTimeoutMs),
    ZK_CONNECT_TIMEOUT_MS: String(config.zk.connectTimeoutMs),
    ZK_OPERATION_TIMEOUT_MS: String(config.zk.operationTimeoutMs),
    ZK_MAX_ATTEMPTS: String(config.zk.maxAttempts),
    LIST_PAGE_SIZE: String(config.listPageSize),
    NAMESPACE_MAX_ENTRIES: String(config.budgets.namespaceMaxEntries),
    NAMESPACE_MAX_BYTES: String(config.budgets.namespaceMaxBytes),
    CLUSTER_MAX_BYTES: String(config.budgets.clusterMaxBytes),
  };

  test.each(Object.keys(applied))('%s: the table gives the default the Lambdas apply', async (variable) => {
    const row = tableRows(await text('infra/DEPLOY.md')).find((cells) => cells[1] === variable);
    expect(row?.[2]).toBe(applied[variable]);
  });

  test('the ZooKeeper deadlines are one value', () => {
    expect(DEFAULTS.connectTimeoutMs).toBe(ZK_TIMEOUT_MS);
    expect(DEFAULTS.operationTimeoutMs).toBe(ZK_TIMEOUT_MS);
  });
});

describe('infra/forwarder/README.md', () => {
  const withDefault = Object.values(SETTINGS).filter((s) => 'default' in s);
  test.each(withDefault.map((s) => [s.flag, s]))(
    '%s: the table gives the default the forwarder applies',
    async (_, s) => {
      const row = tableRows(await text('infra/forwarder/README.md')).find((cells) => cells[0] === s.flag);
      expect(row?.[1]).toBe(s.env);
      expect(row?.[2]).toBe(String('default' in s ? s.default : undefined));
    },
  );
});

describe('README.md', () => {
  test("the CLI's --timeout default is the ZooKeeper deadline", async () => {
    expect(await text('README.md')).toContain(`\`--timeout\` (default ${ZK_TIMEOUT_MS / 1000} s`);
  });
});
