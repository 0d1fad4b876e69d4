import { z } from 'zod';
import { CustomerInputError } from './errors';

/**
 * A page cursor: a position in a query's sort order, given to clients as base64url of the JSON
 * array of its sort keys (in `keys` order), so it is opaque to them. A value that does not decode to
 * an array `schema` accepts is a bad `after` argument.
 */
export interface PageCursor<Key extends string> {
  encode(position: Record<Key, string>): string;
  decode(value: string): Record<Key, string>;
}

export function pageCursor<Key extends string>(keys: readonly Key[], schema: z.ZodType<string[]>): PageCursor<Key> {
  return {
    encode: (position) => Buffer.from(JSON.stringify(keys.map((key) => position[key])), 'utf8').toString('base64url'),
    decode(value) {
      try {
        const values = schema.parse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
        return Object.fromEntries(keys.map((key, index) => [key, values[index]])) as Record<Key, string>;
      } catch {
        throw new CustomerInputError('after', 'is not a cursor returned by this query');
      }
    },
  };
}

/** Position of a customer in the (name, id) order that search pages through. */
export const customerCursor = pageCursor(['name', 'id'], z.tuple([z.string(), z.string().uuid()]));
