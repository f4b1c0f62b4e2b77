// /healthz, /readyz and /metrics for the kubelet and Prometheus, for the in-cluster processes (the forwarder, the
// mirror). Liveness says the process works; readiness says its first complete pass is done (the forwarder's first
// complete list, the mirror's first complete read and sync), which is when a rollout may move on to the next replica.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSource {
  readonly healthy: boolean;
  readonly ready: boolean;
  readonly metrics: { text(): Promise<string>; readonly contentType: string };
  /** What /readyz says while not ready (default: the forwarder's reason). */
  readonly notReadyReason?: string;
  /** What /healthz says when not healthy. */
  readonly unhealthyReason?: string;
}

export interface HealthServer {
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(
  source: HealthSource,
  options: { port: number; host?: string },
): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return source.healthy
          ? reply(200, 'ok\n')
          : reply(500, `${source.unhealthyReason ?? 'the watch loop stopped'}\n`);
      case '/readyz':
        return source.ready
          ? reply(200, 'ready\n')
          : reply(503, `${source.notReadyReason ?? 'waiting for the first complete list'}\n`);
      case '/metrics':
        source.metrics.text().then(
          (text) => reply(200, text, source.metrics.contentType),
          (error: unknown) => reply(500, `metrics failed: ${String(error)}\n`),
        );
        return;
      default:
        return reply(404, 'not found: try /healthz, /readyz or /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
