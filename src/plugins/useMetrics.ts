import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { METRICS_PATH, metricsAccessAllowed } from '../metrics/access';
import type { GatewayMetrics } from '../metrics/gatewayMetrics';
import { INVALID_OPERATION, operationIn } from '../metrics/operationLabels';
import { composePlugins } from './compose';
import { publicCode } from './errorMasking';

export interface MetricsOptions {
  metrics: GatewayMetrics;
  /** Serve /metrics on the GraphQL port; false when METRICS_PORT gives it a listener of its own. */
  serveEndpoint: boolean;
  token?: string;
}

/** Codes yoga adds only after masking, so the error counter names them by phase. */
const PHASE_CODES: Record<string, string> = { parse: 'GRAPHQL_PARSE_FAILED', validate: 'GRAPHQL_VALIDATION_FAILED' };

function errorCode(error: unknown, phase: string | undefined): string {
  const code = error instanceof GraphQLError ? publicCode(error) : undefined;
  return code ?? PHASE_CODES[phase ?? ''] ?? 'INTERNAL_SERVER_ERROR';
}

/**
 * GraphQL request metrics through the yoga Prometheus plugin, into the gateway's own registry:
 * operations, their duration, HTTP duration, and errors labelled with the code the client sees.
 * Per-phase timings and resolver metrics stay off: they cost more than they tell here.
 */
export function useMetrics({ metrics, serveEndpoint, token }: MetricsOptions): Plugin {
  const { registry, operationLabels } = metrics;
  /**
   * The plugin's own labels take the client's operationName text as it came; these name the operation
   * the parsed document holds instead, bounded in length and number (src/metrics/operationLabels.ts).
   */
  const operation = (params: { document?: DocumentNode | null }, context: { params?: { operationName?: string | null } } | undefined) => {
    const { name, type } = operationIn(params.document, context?.params?.operationName);
    return { operationName: operationLabels.label(name), operationType: type };
  };
  const guard: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === METRICS_PATH && !metricsAccessAllowed(request.headers.get('authorization'), token)) {
        endResponse(new fetchAPI.Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } }));
      }
    },
  };
  const prometheus = usePrometheus({
    registry,
    endpoint: serveEndpoint ? METRICS_PATH : false,
    // The URL label would make one series per distinct query string.
    labels: { url: false },
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: 'graphql_envelop_request', help: 'GraphQL operations executed.', labelNames: ['operationName', 'operationType'] },
        fillLabelsFn: operation,
        phases: ['execute', 'subscribe'],
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_envelop_request_duration',
          help: 'Time spent on running the GraphQL operation from parse to execute.',
          labelNames: ['operationName', 'operationType'],
        },
        fillLabelsFn: operation,
        phases: ['execute', 'subscribe'],
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_yoga_http_duration',
          help: 'Time spent on HTTP connection.',
          labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
        },
        // Here the plugin found the operation in the parsed document itself (or none: unknown type).
        fillLabelsFn: (params, context) => ({
          operationName: operationLabels.label(params.operationType ? (params.operationName ?? 'Anonymous') : INVALID_OPERATION),
          operationType: params.operationType ?? 'unknown',
          method: context.request.method,
          statusCode: context.response.status,
        }),
        phases: ['request'],
      }),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Errors in GraphQL results, by operation, phase and the extensions.code clients see.',
          labelNames: ['operationName', 'operationType', 'phase', 'code'],
        },
        fillLabelsFn: (params, context) => ({
          // Parse and validation errors are of operations that never ran.
          ...(params.errorPhase === 'parse' || params.errorPhase === 'validate'
            ? { operationName: INVALID_OPERATION, operationType: 'unknown' }
            : operation(params, context)),
          phase: params.errorPhase ?? 'unknown',
          code: errorCode(params.error, params.errorPhase),
        }),
      }),
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
    },
  });
  return composePlugins(serveEndpoint ? [guard, prometheus] : [prometheus]);
}
