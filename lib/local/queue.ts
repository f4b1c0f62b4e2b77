// A local stand-in for an SQS standard queue with a Lambda event source mapping: messages are delivered in
// batches (up to batchSize, after a batching window), at least once and in no particular order; failed items
// come back after the visibility timeout and go to a dead-letter queue after maxReceiveCount receives.
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { seededRandom } from './random.ts';

export interface LocalQueueOptions {
  readonly batchSize?: number;
  /** The batching window: how long the first message of a batch waits for others (the debounce). */
  readonly windowMs?: number;
  readonly visibilityTimeoutMs?: number;
  readonly maxReceiveCount?: number;
  /** Concurrent pollers: the event source mapping runs several batches at once. */
  readonly concurrency?: number;
  /** Share of messages delivered twice (SQS standard queues deliver at least once). */
  readonly duplicateRate?: number;
  /** Deliver each batch in a random order. */
  readonly shuffle?: boolean;
  readonly seed?: number;
  readonly arn?: string;
}

interface Message {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  visibleAt: number;
}

export type BatchHandler = (records: SQSRecord[]) => Promise<SQSBatchResponse | undefined>;

export class LocalQueue {
  readonly deadLetters: Message[] = [];
  readonly stats = { sent: 0, delivered: 0, batches: 0, failedItems: 0, failedBatches: 0, deleted: 0 };
  private readonly options: Required<LocalQueueOptions>;
  private readonly messages = new Map<string, Message>();
  private readonly inFlight = new Set<string>();
  private random: () => number;
  private running = false;
  private readonly sleepers = new Set<() => void>();
  private pollers: Promise<void>[] = [];

  constructor(options: LocalQueueOptions = {}) {
    this.options = {
      batchSize: 10,
      windowMs: 0,
      visibilityTimeoutMs: 30_000,
      maxReceiveCount: 5,
      concurrency: 1,
      duplicateRate: 0,
      shuffle: false,
      seed: 1,
      arn: 'arn:aws:sqs:us-east-1:000000000000:kube-zk-sync-local',
      ...options,
    };
    this.random = seededRandom(this.options.seed);
  }

  send(body: string): void {
    const message: Message = {
      id: randomUUID(),
      body,
      sentAt: Date.now(),
      receiveCount: 0,
      visibleAt: Date.now(),
    };
    this.messages.set(message.id, message);
    this.stats.sent++;
    this.wakeAll();
  }

  /** Messages not yet deleted (visible, in flight or waiting to be visible again). */
  get depth(): number {
    return this.messages.size;
  }

  /** True when nothing is queued or in flight. */
  get idle(): boolean {
    return this.messages.size === 0 && this.inFlight.size === 0;
  }

  start(handler: BatchHandler): void {
    if (this.running) throw new Error('the queue is already being consumed');
    this.running = true;
    this.pollers = Array.from({ length: this.options.concurrency }, () => this.poll(handler));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeAll();
    await Promise.all(this.pollers);
  }

  /**
   * One pass over the queue: up to a batch of visible messages, when the oldest of them became visible, and when
   * the next invisible one will be (no spreading of large arrays: a soak queues a hundred thousand messages).
   */
  private scan(now: number): { ready: Message[]; oldest: number; next: number } {
    const ready: Message[] = [];
    let oldest = Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    for (const m of this.messages.values()) {
      if (this.inFlight.has(m.id)) continue;
      if (m.visibleAt > now) {
        next = Math.min(next, m.visibleAt);
        continue;
      }
      oldest = Math.min(oldest, Math.max(m.visibleAt, m.sentAt));
      if (ready.length < this.options.batchSize) ready.push(m);
      else break;
    }
    return { ready, oldest, next };
  }

  private wakeAll(): void {
    for (const wake of this.sleepers) wake();
  }

  private async idleUntilSomethingHappens(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async poll(handler: BatchHandler): Promise<void> {
    while (this.running) {
      const now = Date.now();
      const { ready, oldest, next } = this.scan(now);
      if (ready.length === 0) {
        await this.idleUntilSomethingHappens(Number.isFinite(next) ? Math.max(1, next - now) : 1000);
        continue;
      }
      // The batching window starts with the oldest visible message; a full batch goes at once.
      const waitMs = oldest + this.options.windowMs - now;
      if (ready.length < this.options.batchSize && waitMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 50)));
        continue;
      }
      const batch = ready;
      for (const m of batch) {
        this.inFlight.add(m.id);
        m.receiveCount++;
        m.visibleAt = Date.now() + this.options.visibilityTimeoutMs;
      }
      await this.deliver(handler, batch);
    }
  }

  private async deliver(handler: BatchHandler, batch: Message[]): Promise<void> {
    let records = batch.map((m) => this.record(m));
    for (const m of batch) if (this.random() < this.options.duplicateRate) records.push(this.record(m));
    if (this.options.shuffle) records = shuffled(records, this.random);
    this.stats.batches++;
    this.stats.delivered += records.length;
    let failed: Set<string>;
    try {
      const response = await handler(records);
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      // An invocation that throws (or dies) returns the whole batch to the queue.
      this.stats.failedBatches++;
      failed = new Set(batch.map((m) => m.id));
    }
    for (const m of batch) {
      this.inFlight.delete(m.id);
      if (!failed.has(m.id)) {
        this.messages.delete(m.id);
        this.stats.deleted++;
      } else {
        this.stats.failedItems++;
        if (m.receiveCount >= this.options.maxReceiveCount) {
          this.messages.delete(m.id);
          this.deadLetters.push(m);
        }
      }
    }
    this.wakeAll();
  }

  private record(m: Message): SQSRecord {
    return {
      messageId: m.id,
      receiptHandle: `${m.id}#${m.receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.arn,
      awsRegion: 'us-east-1',
    };
  }
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
