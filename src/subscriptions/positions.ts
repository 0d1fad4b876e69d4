/**
 * Positions of readings in a replayable sequence, as SSE event ids: `<receiveMs>.<source>.<place>`.
 * The source is a hub's epoch (its place a sequence number, see RecentReadings) or `s` for the
 * cluster's Redis stream (its place an entry id `<ms>-<seq>`). The receive time comes first so that
 * any position, even one from an unknown source, still says from when to replay.
 */
export interface Position {
  receiveMs: number;
  source: string;
  place: string;
}

export const STREAM_SOURCE = 's';

export function formatPosition({ receiveMs, source, place }: Position): string {
  return `${receiveMs}.${source}.${place}`;
}

export function parsePosition(text: string): Position | undefined {
  const match = /^(\d+)\.(\w+)\.([\d-]+)$/.exec(text);
  if (!match) return undefined;
  return { receiveMs: Number(match[1]), source: match[2]!, place: match[3]! };
}

/** Orders two places of one source: sequence numbers, or stream entry ids `<ms>-<seq>`. */
export function comparePlaces(a: string, b: string): number {
  const [aMajor, aMinor = 0] = a.split('-').map(Number) as [number, number?];
  const [bMajor, bMinor = 0] = b.split('-').map(Number) as [number, number?];
  return aMajor - bMajor || aMinor - bMinor;
}

/** Whether a reading at `candidate` comes after `position`; true when the two cannot be compared. */
export function isAfter(candidate: string | undefined, position: Position): boolean {
  const parsed = candidate === undefined ? undefined : parsePosition(candidate);
  if (!parsed || parsed.source !== position.source) return true;
  return comparePlaces(parsed.place, position.place) > 0;
}
