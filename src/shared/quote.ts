/** Characters of a client's value an error message shows; the client knows the rest. */
export const MAX_QUOTED_CHARACTERS = 40;

/** Longest error message about a client's input the gateway sends back (graphql-js quotes whole values). */
export const MAX_INPUT_ERROR_MESSAGE = 300;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A client's text for an error message: its first MAX_QUOTED_CHARACTERS characters. */
export function shortened(text: string): string {
  return cut(text, MAX_QUOTED_CHARACTERS);
}

/** A client's value for an error message: JSON (a string in quotes), cut to MAX_QUOTED_CHARACTERS characters. */
export function quotedPrefix(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(shortened(value));
  try {
    return shortened(JSON.stringify(value) ?? String(value));
  } catch {
    return shortened(String(value));
  }
}

/** A message that may quote a client's input, cut to MAX_INPUT_ERROR_MESSAGE characters. */
export function boundedMessage(message: string): string {
  return cut(message, MAX_INPUT_ERROR_MESSAGE);
}
