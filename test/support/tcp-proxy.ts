// A loopback TCP proxy that can freeze its connections (as a frozen Lambda or a silent network partition does:
// nothing is sent, nothing is closed) and drop them. Used to make a server expire a client's session for real.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly port: number;
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private frozen = false;
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
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
