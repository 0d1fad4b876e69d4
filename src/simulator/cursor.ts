import { badUserInput } from './errors';
import type { ReadingKey } from './readingStore';

/**
 * Cursors are the position of the last reading returned, base64url-encoded. A position rather than
 * an offset stays valid while old readings are pruned and new ones arrive.
 */

const FORMAT = /^r1:(\d+):(\d+):([0-9a-f-]{36})$/;

export function encodeCursor(key: ReadingKey): string {
  return Buffer.from(`r1:${key.receiveTime}:${key.time}:${key.meter.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): ReadingKey {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = FORMAT.exec(text);
  // Node's base64url decoder skips junk, so only accept input that round-trips exactly.
  if (!match || Buffer.from(text).toString('base64url') !== cursor) {
    throw badUserInput('Invalid cursor: pass the cursor from a previous readings response unchanged');
  }
  return { receiveTime: Number(match[1]), time: Number(match[2]), meter: { id: match[3] } };
}
