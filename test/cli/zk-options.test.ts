// The CLI's digest options read credentials with the shared grammar and refuse anything else as a usage error.
import { describe, expect, test } from 'vitest';
import { CliError } from '../../lib/cli/run.ts';
import { digestOption } from '../../lib/cli/zk-options.ts';

describe('digestOption', () => {
  test('user:password, or the JSON a secret holds', () => {
    expect(digestOption('ops:pa:ss', '--auth')).toEqual({ user: 'ops', password: 'pa:ss' });
    expect(digestOption('{"user":"ops","password":"pw"}', '--acl-writer')).toEqual({
      user: 'ops',
      password: 'pw',
    });
  });

  test.each(['ops', 'ops:', ':pw', '{"user":"ops"'])('%j is a usage error naming the option', (value) => {
    let error: unknown;
    try {
      digestOption(value, '--acl-writer');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toMatch(/^--acl-writer: .*expected "user:password"/);
  });
});
