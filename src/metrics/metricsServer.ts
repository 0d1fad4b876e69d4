import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_PATH, metricsAccessAllowed } from './access';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** METRICS_PORT: /metrics on a listener of its own, which a deployment can keep off the public network. */
export async function serveMetrics(options: { port: number; host: string; registry: Registry; token?: string }): Promise<MetricsServer> {
  const { registry, token } = options;
  const server: Server = createServer((request, response) => {
    if (new URL(request.url ?? '/', 'http://metrics').pathname !== METRICS_PATH) {
      response.writeHead(404).end();
    } else if (!metricsAccessAllowed(request.headers.authorization, token)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    } else {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
