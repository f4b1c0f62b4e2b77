// Writers of the registry document that kube-zk-sync does not control, behaving exactly as the real ones do:
// - `go-round-trip`: the obvious Go service that appends itself. It unmarshals the document into
//   []struct{Name, Description, Endpoints} (keys matched case-insensitively, every other field dropped), sets its
//   own entry, and marshals back: compact, in the order read, with Go's HTML escaping (<, >, & as \u003c, \u003e,
//   \u0026; U+2028 and U+2029 escaped), `null` for a missing endpoint list; written with the version it read;
// - `blind`: the same round-trip, but written without a version, some time after the read, so it undoes whatever
//   was written in between;
// - `reformat`: a person or a script that pretty-prints the whole document (every field kept) and writes it back
//   with the version read.
// Each keeps writing until stopped, changing its own entry every time, and remembers what it wrote last.
import zookeeper from 'node-zookeeper-client';
import type { RegistryEntry } from '../../lib/registry/document.ts';

export type LegacyWriterKind = 'go-round-trip' | 'blind' | 'reformat';

interface GoService {
  Name: string;
  Description: string;
  Endpoints: string[] | null;
}

/** encoding/json's Unmarshal of one element into the three-field struct. */
function goUnmarshal(element: unknown): GoService {
  const service: GoService = { Name: '', Description: '', Endpoints: null };
  if (typeof element !== 'object' || element === null) return service;
  for (const [key, value] of Object.entries(element)) {
    const field = key.toLowerCase();
    if (field === 'name' && typeof value === 'string') service.Name = value;
    else if (field === 'description' && typeof value === 'string') service.Description = value;
    else if (field === 'endpoints')
      service.Endpoints = Array.isArray(value) ? value.filter((e) => typeof e === 'string') : null;
  }
  return service;
}

/** encoding/json's Marshal with its default HTML escaping. */
export function goMarshal(services: readonly GoService[] | null): string {
  const json = JSON.stringify(
    services?.map((s) => ({ name: s.Name, description: s.Description, endpoints: s.Endpoints })) ?? null,
  );
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface LegacyWriterOptions {
  readonly kind: LegacyWriterKind;
  readonly connectString: string;
  readonly path: string;
  /** The writer's own entry name. */
  readonly name: string;
  /** Pause between two writes. */
  readonly everyMs: number;
  /** How long a blind writer holds what it read before writing it back. */
  readonly holdMs?: number;
}

export class LegacyWriter {
  readonly options: LegacyWriterOptions;
  /** Writes that landed, and the writer's entry as it last wrote it. */
  writes = 0;
  lastEntry: RegistryEntry | undefined;
  private readonly client: zookeeper.Client;
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(options: LegacyWriterOptions, client: zookeeper.Client) {
    this.options = options;
    this.client = client;
  }

  static async start(options: LegacyWriterOptions): Promise<LegacyWriter> {
    const client = zookeeper.createClient(options.connectString, { sessionTimeout: 10_000 });
    await new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    const writer = new LegacyWriter(options, client);
    writer.loop = writer.run();
    return writer;
  }

  /** Stops after the write in progress; resolves with the number of writes that landed. */
  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    this.client.close();
    return this.writes;
  }

  private async run(): Promise<void> {
    for (let n = 1; this.running; n++) {
      try {
        await this.writeOnce(n);
      } catch (error) {
        // A real writer logs and tries again next time: a lost compare-and-set is the common case.
        if (!/BAD_VERSION|CONNECTION_LOSS/.test(String(error))) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.everyMs));
    }
  }

  private async writeOnce(n: number): Promise<void> {
    const { data, version } = await this.read();
    const own: RegistryEntry = {
      name: this.options.name,
      description: `legacy <${this.options.kind}> & co, write ${n}`,
      endpoints: [`${this.options.name}.legacy:${8000 + n}`],
    };
    let text: string;
    if (this.options.kind === 'reformat') {
      const parsed = JSON.parse(data || '[]') as Array<Record<string, unknown>>;
      const others = parsed.filter((e) => e.name !== own.name);
      text = JSON.stringify([...others, { ...own, endpoints: [...own.endpoints] }], null, 4);
    } else {
      const services = (JSON.parse(data || 'null') as unknown[] | null)?.map(goUnmarshal) ?? null;
      const mine = { Name: own.name, Description: own.description, Endpoints: [...own.endpoints] };
      const index = services?.findIndex((s) => s.Name === own.name) ?? -1;
      const next = services ? [...services] : [];
      if (index >= 0) next[index] = mine;
      else next.push(mine);
      text = goMarshal(next);
    }
    if (this.options.kind === 'blind')
      await new Promise((resolve) => setTimeout(resolve, this.options.holdMs ?? 200));
    await this.write(Buffer.from(text), this.options.kind === 'blind' ? -1 : version);
    this.writes++;
    this.lastEntry = own;
  }

  private read(): Promise<{ data: string; version: number }> {
    return new Promise((resolve, reject) =>
      this.client.getData(this.options.path, (error, data, stat) =>
        error ? reject(error) : resolve({ data: data?.toString() ?? '', version: stat.version }),
      ),
    );
  }

  private write(data: Buffer, version: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.setData(this.options.path, data, version, (error) => (error ? reject(error) : resolve())),
    );
  }
}
