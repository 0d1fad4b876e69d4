import type { LoadResult } from './load';

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** A markdown table: each row's throughput and p50 as a ratio to its baseline row measured in the same run. */
export function ratioTable(title: string, rows: Array<{ result: LoadResult; baseline: LoadResult }>): string {
  const lines = [
    `### ${title}`,
    '',
    '| scenario | baseline | req/s | baseline req/s | throughput ratio | p50 ms | p99 ms | baseline p50 ms | peak RSS MiB | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { result, baseline } of rows) {
    lines.push(
      `| ${result.name} | ${baseline.name} | ${fixed(result.requestsPerSecond, 0)} | ${fixed(baseline.requestsPerSecond, 0)} | ` +
        `${fixed(result.requestsPerSecond / baseline.requestsPerSecond, 2)}× | ${fixed(result.p50Ms)} | ${fixed(result.p99Ms)} | ` +
        `${fixed(baseline.p50Ms)} | ${fixed(result.peakRssMiB ?? NaN, 0)} | ${result.errors + result.non2xx} |`,
    );
  }
  return lines.join('\n');
}
