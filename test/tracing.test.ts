import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import { postGraphQL } from './helpers/clients';
import { createScratchPostgres, type ScratchPostgres } from './helpers/database';
import { frontingEnv, startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess';
import { staffAuthorization } from './helpers/tokens';

const JWT_SECRET = 'tracing-test-jwt-secret-of-32-characters!';
const STARTUP_MS = 90_000;

interface ExportedSpan {
  traceId: string;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
}

/** SpanKind in OTLP: 2 server, 3 client. */
const SERVER = 2;
const CLIENT = 3;

/** A stand-in OpenTelemetry collector: accepts OTLP/HTTP JSON on /v1/traces and keeps what arrived. */
class OtlpReceiver {
  readonly bodies: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') this.bodies.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  spans(): ExportedSpan[] {
    return this.bodies.flatMap((body) =>
      JSON.parse(body).resourceSpans.flatMap((resourceSpans: any) =>
        resourceSpans.scopeSpans.flatMap((scopeSpans: any) =>
          scopeSpans.spans.map((span: any) => ({
            traceId: span.traceId,
            name: span.name,
            kind: span.kind,
            scope: scopeSpans.scope.name,
            attributes: Object.fromEntries(span.attributes.map((attribute: any) => [attribute.key, attribute.value.stringValue ?? attribute.value.intValue])),
          })),
        ),
      ),
    );
  }
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  const receiver = new OtlpReceiver();
  let simulator: RunningSimulator;
  let postgres: ScratchPostgres;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    await receiver.listen();
    simulator = await startSimulator();
    postgres = await createScratchPostgres();
  });
  afterAll(async () => {
    gateway?.child.kill('SIGKILL');
    await simulator.close();
    await postgres.drop();
    await receiver.close();
  });

  it('exports a trace per client request holding its IOmeter calls and database queries', async () => {
    gateway = startGatewayProcess({
      ...frontingEnv(simulator),
      AUTH_JWT_SECRET: JWT_SECRET,
      DATABASE_URL: postgres.url,
      CACHE_TTL: '0',
      // The archive's (and the usage alerts') own upstream traffic would blur which requests the test sent.
      ARCHIVE_ENABLED: 'false',
      USAGE_ALERTS_ENABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    const url = await gateway.ready(STARTUP_MS);
    const headers = { authorization: await staffAuthorization(JWT_SECRET) };

    const client = { 'graphql-client-name': 'ios-app', 'graphql-client-version': '4.2.0' };
    expect((await postGraphQL(url, 'query Upstream { provider { id } }', undefined, { ...headers, ...client })).body.errors).toBeUndefined();
    expect((await postGraphQL(url, 'query Database { customers { totalCount } }', undefined, headers)).body.errors).toBeUndefined();
    // SIGTERM flushes the spans still buffered.
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);

    const spans = receiver.spans();
    const requests = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-http' && span.kind === SERVER);
    const upstreamCalls = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-http' && span.kind === CLIENT);
    const queries = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-pg');
    expect(requests).toHaveLength(2);
    const [upstreamTrace, databaseTrace] = requests.map((span) => span.traceId);
    expect(upstreamCalls.map((span) => span.traceId)).toContain(upstreamTrace);
    expect(queries.map((span) => span.traceId)).toContain(databaseTrace);
    // The request span names the app and version that sent it; a request without client headers names none.
    expect(requests[0].attributes).toMatchObject({ 'graphql.client.name': 'ios-app', 'graphql.client.version': '4.2.0' });
    expect(requests[1].attributes).not.toHaveProperty('graphql.client.name');
    expect(receiver.bodies.join('')).toContain('"iometer-gateway"');
    expect(receiver.bodies.join('')).not.toContain(simulator.secret);
    expect(receiver.bodies.join('')).not.toContain(headers.authorization.slice('Bearer '.length));
  }, 150_000);
});
