import { z } from 'zod';
import { CustomerInputError } from './errors';

/** Position of a customer in the (name, id) order that search pages through. */
export interface CustomerCursor {
  name: string;
  id: string;
}

const cursorSchema = z.tuple([z.string(), z.string().uuid()]);

/** Opaque to clients: base64url of `[name, id]`. */
export function encodeCursor(cursor: CustomerCursor): string {
  return Buffer.from(JSON.stringify([cursor.name, cursor.id]), 'utf8').toString('base64url');
}

export function decodeCursor(value: string, field = 'after'): CustomerCursor {
  try {
    const [name, id] = cursorSchema.parse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return { name, id };
  } catch {
    throw new CustomerInputError(field, 'is not a cursor returned by this query');
  }
}
