import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

/*
 * deploy/monitoring/: the Grafana dashboard and the Prometheus alert rules name only metrics a running
 * gateway exports (its /metrics, read here), and cover what operators watch.
 */

const MONITORING = join(__dirname, '..', 'deploy', 'monitoring');
const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8'));
const alerts = parseYaml(readFileSync(join(MONITORING, 'prometheus-alerts.yaml'), 'utf8'));

const dashboardExpressions: string[] = dashboard.panels.flatMap((panel: { targets: Array<{ expr: string }> }) => panel.targets.map((target) => target.expr));
const alertRules: Array<{ alert: string; expr: string; for: string; labels: { severity: string } }> = alerts.groups.flatMap(
  (group: { rules: unknown[] }) => group.rules,
);

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/**
 * The metric names in a PromQL expression: label matchers, ranges, strings and grouping labels
 * removed, what is left are function names (followed by a parenthesis), keywords, numbers and metrics.
 */
function metricNamesIn(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(bare.slice(match.index + match[0].length)))
    .map((match) => match[0])
    .filter((name) => !PROMQL_KEYWORDS.has(name) && !/^(Inf|NaN)$/i.test(name));
}

/** Every series name /metrics can carry, from its `# TYPE` lines (histograms as their _bucket, _sum and _count). */
function exportedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

describe('monitoring kit (deploy/monitoring/)', () => {
  let stack: Stack;
  let exported: Set<string>;

  beforeAll(async () => {
    // Archive on, so its lag gauge is registered as in production.
    stack = await startStack({ env: { ARCHIVE_ENABLED: 'true' } });
    exported = exportedNames(await (await fetch(stack.gateway.url.replace('/graphql', '/metrics'))).text());
  });
  afterAll(() => stack?.close());

  it('exports the archive lag once the archive has committed readings', async () => {
    const lag = async () => {
      const text = await (await fetch(stack.gateway.url.replace('/graphql', '/metrics'))).text();
      const line = text.split('\n').find((each) => each.startsWith('iometer_gateway_archive_lag_seconds '));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    await waitFor(async () => (await lag()) !== undefined, 30_000, 'the archive lag gauge to have a value');
    expect(await lag()).toBeGreaterThanOrEqual(0);
  });

  it('finds the metric names in PromQL, and only those', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le) (rate(a_bucket{job=~"$job"}[$__rate_interval]))) / on (x) b > 0.5 and c')).toEqual([
      'a_bucket',
      'b',
      'c',
    ]);
  });

  it('dashboard queries name only metrics the gateway exports', () => {
    const named = [...new Set(dashboardExpressions.flatMap(metricNamesIn))];
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('alert rules name only metrics the gateway exports', () => {
    const named = [...new Set(alertRules.flatMap((rule) => metricNamesIn(rule.expr)))];
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('the dashboard shows requests, errors, latency, cache, rate limits, upstream, breaker, subscribers, fan-out, archive lag and clients', () => {
    const all = dashboardExpressions.join('\n');
    for (const metric of [
      'iometer_gateway_http_requests_total',
      'graphql_envelop_error_result',
      'graphql_yoga_http_duration_bucket',
      'iometer_gateway_cache_hits_total',
      'iometer_gateway_rate_limited_total',
      'iometer_upstream_request_duration_seconds_bucket',
      'iometer_upstream_circuit_state',
      'iometer_gateway_client_subscriptions',
      'iometer_gateway_readings_fanned_out_total',
      'iometer_gateway_archive_lag_seconds',
      'iometer_gateway_client_requests_total',
    ]) {
      expect({ metric, shown: all.includes(metric) }).toEqual({ metric, shown: true });
    }
    for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe('${datasource}');
  });

  it('alerts on upstream down, breaker open, archive lag and error ratio, each with a duration and severity', () => {
    expect(alertRules.map((rule) => rule.alert).sort()).toEqual(
      ['IometerArchiveLagging', 'IometerCircuitBreakerOpen', 'IometerGatewayErrorRatio', 'IometerUpstreamDown'].sort(),
    );
    for (const rule of alertRules) {
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
    }
  });
});
