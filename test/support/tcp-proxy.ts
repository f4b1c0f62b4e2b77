// A loopback TCP proxy that can freeze its connections (as a frozen Lambda or a silent network partition does:
// nothing is sent, nothing is closed), silence them for good (a peer that went away without a word, or a server
// that accepts a connection and never answers), and drop them. Used to make a server expire a client's session for
// real, and to show that a client does not wait without end on a connection that says nothing.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly port: number;
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private frozen = false;
  private silencingNew = false;
  /** Connections silenced for good: never resumed, never closed until the proxy stops. */
  private readonly silenced = new Set<Socket>();
  private cutArmed = false;
  /** Connections cut by cutAfterNextRequest. */
  cuts = 0;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (proxy?.silencingNew) {
        proxy.silence(client);
        return;
      }
      const upstream = connect(target.port, target.host);
      const pair: [Socket, Socket] = [client, upstream];
      proxy?.pairs.add(pair);
      if (proxy?.frozen) {
        client.pause();
        upstream.pause();
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('data', () => {
        if (!proxy?.cutArmed) return;
        proxy.cutArmed = false;
        proxy.cuts++;
        // The request reaches the server; its answer never reaches the client.
        upstream.end();
        client.destroy();
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
        proxy?.pairs.delete(pair);
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops moving bytes both ways, closing nothing: each side sees a silent peer. */
  freeze(): void {
    this.frozen = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const [a, b] of this.pairs) {
      a.resume();
      b.resume();
    }
  }

  /** Connections open now go silent for good, both ways, and stay open; new ones work. */
  silenceCurrent(): void {
    for (const pair of this.pairs) for (const socket of pair) this.silence(socket);
    this.pairs.clear();
  }

  /** While on, new connections are accepted and then never answered nor closed. */
  silenceNew(on: boolean): void {
    this.silencingNew = on;
  }

  /** Nothing more is read from or passed to `socket`, and its end no longer ends its partner. */
  private silence(socket: Socket): void {
    socket.pause();
    socket.unpipe();
    for (const event of ['data', 'end', 'close', 'error']) socket.removeAllListeners(event);
    socket.on('error', () => {});
    this.silenced.add(socket);
  }

  /** Lets the next request through to the server, then cuts the connection before the answer comes back. */
  cutAfterNextRequest(): void {
    this.cutArmed = true;
  }

  /** Cuts every connection, as a network failure does. */
  dropAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    for (const socket of this.silenced) socket.destroy();
    this.silenced.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
