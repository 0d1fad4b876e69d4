/** One side of a comparison: what the report shows for a process under load. */
export interface Measurement {
  name: string;
  /** Requests per second, or readings delivered per second for the fan-out. */
  throughputPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Peak RSS of the process serving the load, during the measured window. */
  peakRssMiB: number;
  /** CPU time (user + system) of the process serving the load, per request answered (fan-out: per reading delivered). */
  cpuMicrosPerRequest?: number;
  /** Failed requests: socket errors, non-2xx answers, GraphQL errors, subscribers that did not connect. */
  errors: number;
}
