import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { GatewayConfig } from './config';
import { graphqlClientOf } from './shared/graphqlClient';

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** A node:http header's value; a repeated header counts by its first value. */
function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * OpenTelemetry tracing to an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT): a span for each client
 * request (node:http server), each IOmeter HTTP call (node:http client) and each PostgreSQL query
 * (pg), joined into one trace per request through async context. The instrumentations patch modules as
 * they are loaded, so this must run before the gateway's modules are imported (see src/main.ts).
 */
export function startTracing({ endpoint, serviceName }: NonNullable<GatewayConfig['tracing']>): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }))],
  });
  provider.register();
  const collector = new URL(endpoint);
  const collectorPort = Number(collector.port || (collector.protocol === 'https:' ? 443 : 80));
  const disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(new URL(request.url ?? '/', 'http://gateway').pathname),
        // Which app and version sent the request, so a trace search can single out one release.
        startIncomingSpanHook: (request) => {
          const client = graphqlClientOf((name) => headerValue(request.headers[name]));
          return {
            ...(client.name ? { 'graphql.client.name': client.name } : {}),
            ...(client.version ? { 'graphql.client.version': client.version } : {}),
          };
        },
        // Outgoing: IOmeter's HTTP calls; not the exporter's own requests (a trace per export, forever)
        // nor the upstream WebSocket's upgrade (one span as long as the subscription lives).
        ignoreOutgoingRequestHook: (request) => {
          const toCollector = (request.hostname ?? request.host) === collector.hostname && Number(request.port ?? collectorPort) === collectorPort;
          const headers = (request.headers ?? {}) as Record<string, unknown>;
          return toCollector || /websocket/i.test(String(headers.upgrade ?? headers.Upgrade ?? ''));
        },
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  return {
    shutdown: async () => {
      disableInstrumentations();
      await provider.shutdown();
    },
  };
}
