// The one grammar of ZooKeeper digest credentials, for the CLI's options and the Lambdas' SSM parameter or secret.
import { describe, expect, test } from 'vitest';
import { parseDigest, parseDigestList } from '../../lib/zk/digest-credentials.ts';

describe('parseDigest', () => {
  test.each([
    ['sync:s3cret', 'sync', 's3cret'],
    // The password is everything after the first ":".
    ['sync:p:a:ss', 'sync', 'p:a:ss'],
    ['  sync:s3cret\n', 'sync', 's3cret'],
    ['{"user":"sync","password":"s3cret"}', 'sync', 's3cret'],
    // RDS-style secrets say "username"; other fields are ignored.
    ['{"username":"sync","password":"s3cret","engine":"zk"}', 'sync', 's3cret'],
    [' {"user":"sync","password":"a:b"} ', 'sync', 'a:b'],
  ])('%j is %s / %s', (text, user, password) => {
    expect(parseDigest(text)).toEqual({ credentials: { user, password } });
  });

  const EXPECTED = 'expected "user:password" or {"user":"…","password":"…"}';
  test.each([
    ['', `no ZooKeeper digest credentials; ${EXPECTED}`],
    ['nopassword', `no ZooKeeper digest credentials; ${EXPECTED}`],
    [':pw', `no ZooKeeper digest credentials; ${EXPECTED}`],
    ['user:', `no ZooKeeper digest credentials; ${EXPECTED}`],
    ['{"user":"a"}', `no ZooKeeper digest credentials; ${EXPECTED}`],
    ['{"user":"a","password":7}', `no ZooKeeper digest credentials; ${EXPECTED}`],
    ['{"user":', `not valid JSON, though it starts with "{"; ${EXPECTED}`],
    ['{"user":"a:b","password":"c"}', 'the digest user must not contain ":"'],
  ])('%j is refused: %s', (text, problem) => {
    expect(parseDigest(text)).toEqual({ problem });
  });

  test('a problem never quotes the text, which holds a password', () => {
    for (const text of ['hunter2', '{"password":"hunter2"}', '{"password":"hunter2"', 'x:']) {
      const parsed = parseDigest(text);
      expect('problem' in parsed && parsed.problem).not.toContain('hunter2');
    }
  });
});

describe('parseDigestList', () => {
  test.each([
    ['sync:s3cret', [['sync', 's3cret']]],
    [
      'sync:a\n\nops:b:c\r\n',
      [
        ['sync', 'a'],
        ['ops', 'b:c'],
      ],
    ],
    [
      '{"user":"sync","password":"a"}\nops:b',
      [
        ['sync', 'a'],
        ['ops', 'b'],
      ],
    ],
    // The JSON a secret holds, laid out over several lines, is one identity.
    ['{\n  "username": "sync",\n  "password": "a"\n}\n', [['sync', 'a']]],
  ])('%j', (text, expected) => {
    expect(parseDigestList(text)).toEqual({
      credentials: expected.map(([user, password]) => ({ user, password })),
    });
  });

  test.each([
    ['', 'no ZooKeeper digest credentials'],
    ['\n \n', 'no ZooKeeper digest credentials'],
    ['sync:a\nhunter2', 'line 2: no ZooKeeper digest credentials'],
    ['{"user":"a:b","password":"hunter2"}', 'the digest user must not contain ":"'],
  ])('%j is refused, the line named and the text not quoted', (text, problem) => {
    const parsed = parseDigestList(text);
    expect('problem' in parsed && parsed.problem).toMatch(new RegExp(`^${problem}`));
    expect('problem' in parsed && parsed.problem).not.toContain('hunter2');
  });
});
