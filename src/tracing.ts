import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { GatewayConfig } from './config';

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * OpenTelemetry tracing to an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT): a span for each client
 * request (node:http server), each IOmeter HTTP call (fetch, through undici) and each PostgreSQL query
 * (pg), joined into one trace per request through async context. The instrumentations patch modules as
 * they are loaded, so this must run before the gateway's modules are imported (see src/main.ts).
 */
export function startTracing({ endpoint, serviceName }: NonNullable<GatewayConfig['tracing']>): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }))],
  });
  provider.register();
  const disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(new URL(request.url ?? '/', 'http://gateway').pathname),
        // Outgoing node:http is only the upstream WebSocket's upgrade and the exporter itself.
        ignoreOutgoingRequestHook: () => true,
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
