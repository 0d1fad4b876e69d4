import { startStack, type Stack } from './helpers/stack';

/** Client mistakes are the client's business: one info line with the code, no ERROR, no stack trace. */
describe('logging of client errors', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it.each([
    ['a syntax error', 'GRAPHQL_PARSE_FAILED', (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ provider { id ' }) })],
    ['invalid JSON', 'BAD_REQUEST', (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' })],
    ['a mutation over GET', 'BAD_REQUEST', (url: string) => fetch(`${url}?query=${encodeURIComponent('mutation { upsertCustomer(input: { externalId: "x", name: "y" }) { id } }')}`)],
  ])('logs %s once, at info, with its code', async (_mistake, code, send) => {
    const before = stack.logs.length;
    const response = await send(stack.gateway.url);
    await response.text();
    const lines = stack.logs.slice(before).map((line) => JSON.parse(line) as { level: number; msg: string; code?: string; err?: unknown });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    const logged = lines.filter((line) => line.msg === 'client error');
    expect(logged).toEqual([expect.objectContaining({ level: 30, code })]);
    expect(logged[0]!.err).toBeUndefined();
  });
});
