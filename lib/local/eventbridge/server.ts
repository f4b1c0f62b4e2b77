// A local EventBridge endpoint that the real @aws-sdk/client-eventbridge talks to over HTTP. It answers PutEvents as
// AWS does (limits, whole-request errors, partial failures), can be told to misbehave, and routes accepted events
// through rules to a sink, so tests see what a rule target would receive. Every random choice comes from a seed, so a
// failing run replays the same way for the same sequence of calls.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { seededRandom } from '../random.ts';
import { compileEventPattern, type EventPattern } from './pattern.ts';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  ENTRY_ERROR_MESSAGES,
  type EntryErrorCode,
  entryError,
  entrySize,
  eventTime,
  MAX_ENTRIES,
  type PutEventsResponse,
  type ResultEntry,
  type WireEntry,
} from './put-events.ts';

export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface Rule {
  readonly name: string;
  readonly pattern: EventPattern;
  /** The bus the rule is on; undefined matches events on any bus. */
  readonly eventBusName?: string;
}

export interface Delivery {
  readonly rule: string;
  readonly eventBusName: string;
  readonly event: EventEnvelope;
}

export interface Faults {
  /** Probability (0–1) that a whole call is refused with HTTP 400 ThrottlingException, as AWS does over quota. */
  readonly throttleRate?: number;
  /** Probability (0–1) that each otherwise valid entry fails with `entryErrorCode` inside an HTTP 200 answer. */
  readonly entryFailureRate?: number;
  /** Default ThrottlingException. InternalFailure is the other retryable code; anything else is final. */
  readonly entryErrorCode?: EntryErrorCode;
  /** Fails the entries it returns a code for, to make one particular entry fail; applied before the rate. */
  readonly failEntry?: (entry: WireEntry, index: number) => EntryErrorCode | undefined;
  /** Delay before every answer, in milliseconds. */
  readonly latencyMs?: number;
}

/** One HTTP call as the endpoint saw and answered it. */
export interface RecordedCall {
  readonly entries: readonly WireEntry[];
  readonly status: number;
  /** The whole-request error code; undefined when the call was answered 200. */
  readonly error?: string;
  /** Per-entry results, aligned with `entries`; only for 200 answers. */
  readonly results?: readonly ResultEntry[];
}

export interface LocalEventBridgeOptions {
  readonly seed?: number;
  readonly port?: number;
  readonly region?: string;
  readonly account?: string;
  readonly maxRequestBytes?: number;
  readonly faults?: Faults;
  readonly rules?: readonly Rule[];
  readonly now?: () => Date;
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** A bus is named by name or by ARN (`arn:aws:events:region:account:event-bus/NAME`). */
const busName = (value: unknown): string =>
  typeof value === 'string' && value !== '' ? value.slice(value.lastIndexOf('/') + 1) : 'default';

class RequestError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class LocalEventBridge {
  /** Every call, in the order answered. */
  readonly calls: RecordedCall[] = [];
  /** Every event a rule matched, in order. */
  readonly deliveries: Delivery[] = [];
  /** Errors thrown by subscribers; AWS delivers to targets after answering, so they never fail a PutEvents. */
  readonly deliveryErrors: unknown[] = [];

  private readonly server: Server;
  private readonly region: string;
  private readonly account: string;
  private readonly maxRequestBytes: number;
  private readonly now: () => Date;
  private readonly faultRandom: () => number;
  private readonly idRandom: () => number;
  private readonly rules: { rule: Rule; matches: (event: unknown) => boolean }[] = [];
  private readonly listeners = new Set<(delivery: Delivery) => void>();
  private faults: Faults;
  private throttledCallsLeft = 0;
  private address: AddressInfo | undefined;

  private constructor(options: LocalEventBridgeOptions) {
    const seed = options.seed ?? 1;
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '123456789012';
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.now = options.now ?? (() => new Date());
    this.faultRandom = seededRandom(seed);
    this.idRandom = seededRandom(seed ^ 0x5bd1e995);
    this.faults = options.faults ?? {};
    for (const rule of options.rules ?? []) this.addRule(rule);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent)
          this.sendJson(response, 500, { __type: 'InternalException', message: String(error) });
      });
    });
  }

  static async start(options: LocalEventBridgeOptions = {}): Promise<LocalEventBridge> {
    const bridge = new LocalEventBridge(options);
    await new Promise<void>((resolve, reject) => {
      bridge.server.once('error', reject);
      bridge.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    bridge.address = bridge.server.address() as AddressInfo;
    return bridge;
  }

  /** `http://127.0.0.1:PORT`, for the SDK client's `endpoint`. */
  get endpoint(): string {
    if (!this.address) throw new Error('the local EventBridge is not listening');
    return `http://127.0.0.1:${this.address.port}`;
  }

  /** What an EventBridgeClient needs to talk to this endpoint. */
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  } {
    return {
      endpoint: this.endpoint,
      region: this.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
  }

  setFaults(faults: Faults): void {
    this.faults = faults;
  }

  /** Refuses the next `count` calls with ThrottlingException, whatever the throttle rate. */
  throttleNext(count: number): void {
    this.throttledCallsLeft = count;
  }

  /** Adds a rule; throws EventPatternError when the pattern is not one this endpoint can judge. */
  addRule(rule: Rule): void {
    this.rules.push({ rule, matches: compileEventPattern(rule.pattern) });
  }

  /** Calls `listener` with each delivery from now on; returns the function that stops it. */
  subscribe(listener: (delivery: Delivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // The SDK keeps connections alive; without this, close() waits for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let entries: readonly WireEntry[] = [];
    let status = 200;
    let payload: unknown;
    let error: string | undefined;
    let results: ResultEntry[] | undefined;
    try {
      entries = this.checkRequest(request, body);
      results = this.putEvents(entries);
      const answer: PutEventsResponse = {
        FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
        Entries: results,
      };
      payload = answer;
    } catch (caught) {
      if (!(caught instanceof RequestError)) throw caught;
      ({ status } = caught);
      error = caught.code;
      payload = { __type: caught.code, message: caught.message };
    }
    this.calls.push({ entries, status, ...(error ? { error } : {}), ...(results ? { results } : {}) });
    if (this.faults.latencyMs) await delay(this.faults.latencyMs);
    this.sendJson(response, status, payload);
  }

  /** The whole-request checks, in the order AWS applies them; returns the entries. */
  private checkRequest(request: IncomingMessage, body: string): readonly WireEntry[] {
    if (request.method !== 'POST' || (request.url ?? '/') !== '/') {
      throw new RequestError(
        404,
        'UnknownOperationException',
        `${request.method} ${request.url} is not an operation`,
      );
    }
    const target = request.headers['x-amz-target'];
    if (target !== 'AWSEvents.PutEvents') {
      throw new RequestError(
        400,
        'UnknownOperationException',
        `operation ${String(target)} is not supported here`,
      );
    }
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
      throw new RequestError(
        400,
        'SerializationException',
        'content-type must be application/x-amz-json-1.1',
      );
    }
    if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      throw new RequestError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (this.throttledCallsLeft > 0 || this.draw(this.faults.throttleRate)) {
      this.throttledCallsLeft = Math.max(0, this.throttledCallsLeft - 1);
      throw new RequestError(400, 'ThrottlingException', 'Rate exceeded');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new RequestError(400, 'SerializationException', 'the request body is not JSON');
    }
    const entries = (parsed as { Entries?: unknown } | null)?.Entries;
    if (!Array.isArray(entries)) {
      throw new RequestError(
        400,
        'ValidationException',
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
      );
    }
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      const bound =
        entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`;
      throw new RequestError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    // Anything but an object is an entry with no fields, which fails per entry as AWS reports it.
    const wire = entries.map(
      (e: unknown): WireEntry => (typeof e === 'object' && e !== null ? (e as WireEntry) : {}),
    );
    const total = wire.reduce((sum, entry) => sum + entrySize(entry), 0);
    if (total >= this.maxRequestBytes) {
      throw new RequestError(
        400,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    return wire;
  }

  private putEvents(entries: readonly WireEntry[]): ResultEntry[] {
    return entries.map((entry, index) => {
      const invalid = entryError(entry);
      if (invalid) return { ErrorCode: invalid.code, ErrorMessage: invalid.message };
      const injected =
        this.faults.failEntry?.(entry, index) ??
        (this.draw(this.faults.entryFailureRate)
          ? (this.faults.entryErrorCode ?? 'ThrottlingException')
          : undefined);
      if (injected) return { ErrorCode: injected, ErrorMessage: ENTRY_ERROR_MESSAGES[injected] };
      const event = this.envelope(entry);
      this.route(busName(entry.EventBusName), event);
      return { EventId: event.id };
    });
  }

  private envelope(entry: WireEntry): EventEnvelope {
    return {
      version: '0',
      id: uuidFrom(this.idRandom),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: this.account,
      time: eventTime(entry, this.now()),
      region: this.region,
      resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
    };
  }

  private route(eventBusName: string, event: EventEnvelope): void {
    for (const { rule, matches } of this.rules) {
      if (rule.eventBusName !== undefined && busName(rule.eventBusName) !== eventBusName) continue;
      if (!matches(event)) continue;
      const delivery: Delivery = { rule: rule.name, eventBusName, event };
      this.deliveries.push(delivery);
      for (const listener of this.listeners) {
        try {
          listener(delivery);
        } catch (error) {
          this.deliveryErrors.push(error);
        }
      }
    }
  }

  /** True with probability `rate`; draws nothing when the rate is unset, so unrelated knobs keep their sequences. */
  private draw(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.faultRandom() < rate;
  }

  private sendJson(response: ServerResponse, status: number, payload: unknown): void {
    const body = JSON.stringify(payload);
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
    });
    response.end(body);
  }
}

export type { EntryErrorCode, PutEventsResponse, WireEntry };
