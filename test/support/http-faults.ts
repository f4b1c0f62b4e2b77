// An HTTP front for a local server that answers the requests a rule picks with an error status instead of passing
// them on: an API that fails some calls (500s) while the rest of it works. Everything else is forwarded as it is.
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class HttpFaultFront {
  readonly url: string;
  /** Requests answered with an error. */
  failed = 0;
  private readonly server: Server;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  /** Forwards to `target` (e.g. `http://127.0.0.1:1234`); `failWith` returns the status to answer instead, if any. */
  static async start(
    target: string,
    failWith: (req: IncomingMessage) => number | undefined,
  ): Promise<HttpFaultFront> {
    const upstream = new URL(target);
    let front: HttpFaultFront | undefined;
    const server = createServer((req, res) => {
      const status = failWith(req);
      if (status !== undefined) {
        if (front) front.failed++;
        req.resume();
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: 'injected failure',
            code: status,
          }),
        );
        return;
      }
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    front = new HttpFaultFront(server, `http://127.0.0.1:${port}`);
    return front;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
