import { expect, test } from 'vitest';
import { LocalQueue } from '../../lib/local/queue.ts';
import { eventually } from '../support/cli.ts';

test('the local queue batches within the window, redelivers failed items and dead-letters poison', async () => {
  const queue = new LocalQueue({ batchSize: 5, windowMs: 100, visibilityTimeoutMs: 20, maxReceiveCount: 3 });
  const batches: string[][] = [];
  queue.start(async (records) => {
    batches.push(records.map((r) => r.body));
    return {
      batchItemFailures: records
        .filter((r) => r.body === 'poison')
        .map((r) => ({ itemIdentifier: r.messageId })),
    };
  });
  for (const body of ['a', 'b', 'poison', 'c', 'd', 'e', 'f']) queue.send(body);
  await eventually('the queue to drain', () => queue.idle);
  await queue.stop();
  expect(batches[0]).toEqual(['a', 'b', 'poison', 'c', 'd']);
  expect(batches.flat().filter((b) => b === 'poison')).toHaveLength(3);
  expect(queue.deadLetters.map((m) => m.body)).toEqual(['poison']);
  expect(new Set(batches.flat())).toEqual(new Set(['a', 'b', 'poison', 'c', 'd', 'e', 'f']));
});

test('a batch whose invocation throws comes back whole', async () => {
  const queue = new LocalQueue({ batchSize: 10, visibilityTimeoutMs: 10 });
  let calls = 0;
  const seen: string[] = [];
  queue.start(async (records) => {
    if (calls++ === 0) throw new Error('invocation died');
    seen.push(...records.map((r) => r.body));
    return undefined;
  });
  queue.send('x');
  queue.send('y');
  await eventually('the queue to drain', () => queue.idle);
  await queue.stop();
  expect(seen.sort()).toEqual(['x', 'y']);
  expect(queue.stats.failedBatches).toBe(1);
});
