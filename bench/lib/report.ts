import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Measurement } from './measurement';

export interface Comparison {
  scenario: Measurement;
  baseline: Measurement;
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ratio = (a: number, b: number) => `${fixed(a / b, 2)}×`;

/**
 * One markdown table: each scenario beside its baseline measured in the same run, and the ratios
 * scenario / baseline. Throughput ratio above 1 is better; latency and RSS ratios below 1 are better.
 */
export function comparisonTable(rows: Comparison[]): string {
  const lines = [
    '| scenario | baseline | throughput /s | baseline /s | throughput ratio | p50 ms | baseline p50 ms | p50 ratio | p99 ms | baseline p99 ms | p99 ratio | CPU µs/request | baseline CPU µs/request | CPU ratio | peak RSS MiB | baseline peak RSS MiB | RSS ratio | errors (scenario / baseline) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { scenario: s, baseline: b } of rows) {
    const cpu = s.cpuMicrosPerRequest ?? NaN;
    const baselineCpu = b.cpuMicrosPerRequest ?? NaN;
    lines.push(
      `| ${s.name} | ${b.name} | ${fixed(s.throughputPerSecond, 0)} | ${fixed(b.throughputPerSecond, 0)} | ${ratio(s.throughputPerSecond, b.throughputPerSecond)} | ` +
        `${fixed(s.p50Ms)} | ${fixed(b.p50Ms)} | ${ratio(s.p50Ms, b.p50Ms)} | ${fixed(s.p99Ms)} | ${fixed(b.p99Ms)} | ${ratio(s.p99Ms, b.p99Ms)} | ` +
        `${fixed(cpu, 0)} | ${fixed(baselineCpu, 0)} | ${ratio(cpu, baselineCpu)} | ` +
        `${fixed(s.peakRssMiB, 0)} | ${fixed(b.peakRssMiB, 0)} | ${ratio(s.peakRssMiB, b.peakRssMiB)} | ${s.errors} / ${b.errors} |`,
    );
  }
  return lines.join('\n');
}

/**
 * One client, one connection: the latency a scenario adds to its baseline (both measured to the
 * microsecond in this run), and the CPU each request cost the process serving it.
 */
export function latencyTable(rows: Comparison[]): string {
  const lines = [
    '| scenario (1 connection) | baseline | p50 ms | baseline p50 ms | added p50 ms | p99 ms | baseline p99 ms | added p99 ms | requests/s | baseline requests/s | CPU µs/request | baseline CPU µs/request | errors (scenario / baseline) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const added = (a: number, b: number) => `${a - b >= 0 ? '+' : ''}${fixed(a - b, 2)}`;
  for (const { scenario: s, baseline: b } of rows) {
    lines.push(
      `| ${s.name} | ${b.name} | ${fixed(s.p50Ms, 2)} | ${fixed(b.p50Ms, 2)} | ${added(s.p50Ms, b.p50Ms)} | ${fixed(s.p99Ms, 2)} | ${fixed(b.p99Ms, 2)} | ${added(s.p99Ms, b.p99Ms)} | ` +
        `${fixed(s.throughputPerSecond, 0)} | ${fixed(b.throughputPerSecond, 0)} | ${fixed(s.cpuMicrosPerRequest ?? NaN, 0)} | ${fixed(b.cpuMicrosPerRequest ?? NaN, 0)} | ${s.errors} / ${b.errors} |`,
    );
  }
  return lines.join('\n');
}

/** A figure of issue 12's targets, measured in this run. */
export interface Target {
  figure: string;
  value: number;
  /** Rendered value, e.g. "+0.42 ms" or "0.81×". */
  shown: string;
  target: string;
  met: boolean;
}

export function targetTable(targets: Target[]): string {
  return [
    '| figure | this run | target | met |',
    '| --- | ---: | ---: | --- |',
    ...targets.map((t) => `| ${t.figure} | ${t.shown} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`),
  ].join('\n');
}

/** Runs with failures: their figures are not comparable. */
export function failedMeasurements(rows: Comparison[]): string[] {
  return [...new Set(rows.flatMap(({ scenario, baseline }) => [scenario, baseline]).filter((m) => m.errors > 0).map((m) => m.name))];
}

/** The machine facts a recorded result needs to be read against; the load average shows how busy it was. */
export function machineFacts(): string {
  const cores = cpus();
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  return (
    `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}), ${gib(totalmem())} GiB RAM (${gib(freemem())} GiB free), ` +
    `Node ${process.version}, load average ${loadavg().map((load) => load.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`
  );
}

const SECTION_START = '<!-- npm run bench: start -->';
const SECTION_END = '<!-- npm run bench: end -->';

/**
 * Puts `section` between the suite's markers in the results file, replacing the previous suite result
 * (each run supersedes the last; older, hand-written sections stay). Without markers it goes after the
 * file's introduction, before the first `## ` heading.
 */
export function recordSection(path: string, section: string): void {
  const text = readFileSync(path, 'utf8');
  const block = `${SECTION_START}\n${section.trim()}\n${SECTION_END}`;
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  let updated: string;
  if (start >= 0 && end > start) {
    updated = text.slice(0, start) + block + text.slice(end + SECTION_END.length);
  } else {
    const firstHeading = text.search(/^## /m);
    const at = firstHeading >= 0 ? firstHeading : text.length;
    updated = `${text.slice(0, at)}${block}\n\n${text.slice(at)}`;
  }
  writeFileSync(path, updated);
}
