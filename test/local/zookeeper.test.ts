import { expect, inject, test } from 'vitest';
import { fourLetter } from '../../lib/local/zookeeper.ts';

test('the shared ZooKeeper server answers', async () => {
  const [host, port] = (inject('zkConnect').split(',')[0] ?? '').split(':');
  expect(host).toBe('127.0.0.1');
  expect(await fourLetter(Number(port), 'ruok')).toBe('imok');
});
