/** Adds header names to a response's Vary, keeping those already there (CORS adds Origin). */
export function appendVary(headers: Headers, names: ReadonlyArray<string>): void {
  const present = (headers.get('vary') ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const lower = new Set(present.map((name) => name.toLowerCase()));
  headers.set('vary', [...present, ...names.filter((name) => !lower.has(name.toLowerCase()))].join(', '));
}
