import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, type GraphQLError, type GraphQLScalarType } from 'graphql';
import { formatObisCode, iometerScalars, parseObisCode } from '../src/iometer/scalars';

type ScalarName = keyof typeof iometerScalars;

const cases: Record<ScalarName, { valid: string[]; invalid: unknown[] }> = {
  Uuid: {
    valid: ['578936dc-8020-4022-a560-2f59d2dca9ee', '578936DC-8020-4022-A560-2F59D2DCA9EE', '00000000-0000-0000-0000-000000000000'],
    invalid: ['abc', '578936dc80204022a5602f59d2dca9ee', '{578936dc-8020-4022-a560-2f59d2dca9ee}', '578936dc-8020-4022-a560-2f59d2dca9eg', '', 42, null],
  },
  DateTime: {
    valid: ['2024-12-31T23:30:15Z', '2024-12-31T23:30:15.123Z', '2024-02-29T00:00:00+01:00', '2024-12-31t23:30:15z', '2024-06-01T12:00:00.123456-05:30'],
    invalid: ['2024-12-31T24:30:15Z', '2024-12-31T23:60:15Z', '2024-12-31T23:30:60Z', '2023-02-29T10:00:00Z', '2024-13-01T00:00:00Z', '2024-12-31T23:30:15', '2024-12-31 23:30:15Z', '2024-12-31', 1735687815000],
  },
  Date: {
    valid: ['2024-12-31', '2024-02-29', '2000-02-29', '0000-02-29'],
    invalid: ['2023-02-29', '1900-02-29', '0100-02-29', '2024-04-31', '2024-00-10', '2024-1-01', '2024-12-31T00:00:00Z', ''],
  },
  Uri: {
    valid: ['https://example.com', 'http://127.0.0.1:4100/sandbox/qr/abc_DEF-1', 'iometer://register?token=abc', 'mailto:ops@example.com', 'https://example.com/a%20b?x=1#frag', 'urn:uuid:578936dc-8020-4022-a560-2f59d2dca9ee'],
    invalid: ['/relative/path', 'example.com', 'https://exa mple.com', 'https://example.com/%zz', 'https://example.com/#a#b', '1http://example.com', ''],
  },
  ObisCode: {
    valid: ['1-0:1.8.0', '1-0:16.7.0', '01-00:01.08.00*ff', '01-00:10.07.00*FF', '255-255:255.255.255'],
    invalid: ['1-0:1.8', '1-0:1.8.0*255', '01-00:01.08.00*f', '1-0:256.8.0', '01-00:01.08.00*gg', '1.8.0', ''],
  },
  MeterNumber: {
    valid: ['1EMH0007058153', 'x'],
    invalid: ['', '   ', 1234],
  },
};

describe.each(Object.keys(cases) as ScalarName[])('%s scalar', (name) => {
  const scalar: GraphQLScalarType = iometerScalars[name];
  const { valid, invalid } = cases[name];

  it('is named as in the contract', () => {
    expect(scalar.name).toBe(name);
  });

  it.each(valid)('accepts %p unchanged as a string', (value) => {
    expect(scalar.parseValue(value)).toBe(value);
    expect(scalar.serialize(value)).toBe(value);
    expect(scalar.parseLiteral({ kind: 'StringValue', value } as never)).toBe(value);
  });

  const thrownBy = (run: () => unknown): GraphQLError => {
    try {
      run();
    } catch (error) {
      return error as GraphQLError;
    }
    throw new Error('expected an error');
  };

  it.each(invalid.map((value) => [value]))('rejects %p in parseValue, serialize and parseLiteral', (value) => {
    const message = new RegExp(`^${name} cannot represent .+: expected`);
    const input = [thrownBy(() => scalar.parseValue(value))];
    if (typeof value === 'string') input.push(thrownBy(() => scalar.parseLiteral({ kind: 'StringValue', value } as never)));
    for (const error of input) {
      expect(error.message).toMatch(message);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', http: { status: 400 } });
    }
    // Output that fails is a server bug, not bad user input.
    const output = thrownBy(() => scalar.serialize(value));
    expect(output.message).toMatch(message);
    expect(output.extensions.code).toBeUndefined();
  });

  it('rejects non-string literals', () => {
    expect(() => scalar.parseLiteral({ kind: 'IntValue', value: '42' } as never)).toThrow(
      new RegExp(`^${name} cannot represent 42: expected`),
    );
  });
});

it('explains what a Uuid looks like', () => {
  expect(() => iometerScalars.Uuid.parseValue('abc')).toThrow(
    'Uuid cannot represent "abc": expected an RFC 4122 UUID like 578936dc-8020-4022-a560-2f59d2dca9ee',
  );
});

describe('in an executable schema', () => {
  const schema = makeExecutableSchema({
    typeDefs: `
      scalar DateTime
      scalar Uuid
      type Query { echo(at: DateTime!, id: Uuid): DateTime! }
    `,
    resolvers: {
      DateTime: iometerScalars.DateTime,
      Uuid: iometerScalars.Uuid,
      Query: { echo: (_: unknown, args: { at: string }) => args.at },
    },
  });

  it('passes valid values through as the same strings', async () => {
    const result = await graphql({
      schema,
      source: 'query($at: DateTime!) { echo(at: $at) }',
      variableValues: { at: '2024-12-31T23:30:15.123456+01:00' },
    });
    expect(result).toEqual({ data: { echo: '2024-12-31T23:30:15.123456+01:00' } });
  });

  it('rejects the API reference example timestamp with hour 24', async () => {
    const result = await graphql({
      schema,
      source: 'query($at: DateTime!) { echo(at: $at) }',
      variableValues: { at: '2024-12-31T24:30:15Z' },
    });
    expect(result.errors?.[0].message).toContain('DateTime cannot represent "2024-12-31T24:30:15Z"');
    expect(result.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('rejects invalid literals with the scalar message', async () => {
    const result = await graphql({ schema, source: '{ echo(at: "2024-12-31T23:30:15Z", id: "nope") }' });
    expect(result.errors?.[0].message).toContain('Uuid cannot represent "nope"');
  });
});

describe('OBIS helpers', () => {
  it('parses decimal and hex into the same groups', () => {
    const expected = { a: 1, b: 0, c: 16, d: 7, e: 0, f: 255 };
    expect(parseObisCode('1-0:16.7.0')).toEqual(expected);
    expect(parseObisCode('01-00:10.07.00*ff')).toEqual(expected);
    expect(parseObisCode('01-00:10.07.00*FF')).toEqual(expected);
  });

  it('returns undefined for non-OBIS input', () => {
    expect(parseObisCode('1-0:1.8')).toBeUndefined();
    expect(parseObisCode('1-0:300.8.0')).toBeUndefined();
  });

  it.each([
    ['1-0:1.8.0', '01-00:01.08.00*ff'],
    ['1-0:2.8.0', '01-00:02.08.00*ff'],
    ['1-0:16.7.0', '01-00:10.07.00*ff'],
    ['7-0:3.0.0', '07-00:03.00.00*ff'],
  ])('converts %s <-> %s', (dec, hex) => {
    expect(formatObisCode(dec, 'hex')).toBe(hex);
    expect(formatObisCode(hex, 'dec')).toBe(dec);
    expect(formatObisCode(dec, 'dec')).toBe(dec);
    expect(formatObisCode(hex.toUpperCase().replace('*FF', '*ff'), 'hex')).toBe(hex);
  });

  it('formats parts and rejects garbage', () => {
    expect(formatObisCode({ a: 1, b: 0, c: 1, d: 8, e: 1, f: 1 }, 'hex')).toBe('01-00:01.08.01*01');
    expect(() => formatObisCode('nope', 'dec')).toThrow('"nope" is not an OBIS code');
  });
});
