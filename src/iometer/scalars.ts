import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { quotedPrefix, shortened } from '../shared/quote';
import { OBIS_CODE_EXPECTATION, parseObisCode } from './obis';

/**
 * The IOmeter contract's custom scalars. Every one of them is a string on the wire and stays a
 * string in resolvers: the gateway forwards values upstream unchanged, so a DateTime must not turn
 * into a JS Date (which would also drop sub-millisecond digits and the original offset).
 *
 * graphql-scalars' scalars convert to Date/URL objects and its validators are not exported, so the
 * checks here are small regexes plus a calendar check.
 */

interface StringScalarSpec {
  name: string;
  description: string;
  /** Completes "<Name> cannot represent <value>: ". */
  expectation: string;
  isValid(value: string): boolean;
}

// Input errors keep this code and status when graphql-js wraps them for a variable or literal.
const BAD_INPUT = { code: 'BAD_USER_INPUT', http: { status: 400 } };

function stringScalar(spec: StringScalarSpec): GraphQLScalarType<string, string> {
  const invalid = (shown: string, options: { input: boolean; node?: ValueNode }) =>
    new GraphQLError(`${spec.name} cannot represent ${shown}: ${spec.expectation}`, {
      nodes: options.node,
      extensions: options.input ? BAD_INPUT : undefined,
    });
  const check = (value: unknown, input: boolean): string => {
    if (typeof value === 'string' && spec.isValid(value)) return value;
    throw invalid(quotedPrefix(value), { input });
  };
  return new GraphQLScalarType<string, string>({
    name: spec.name,
    description: spec.description,
    // A value we produce that fails is our bug, not the client's, so it gets no input error code.
    serialize: (value) => check(value, false),
    parseValue: (value) => check(value, true),
    parseLiteral(node) {
      if (node.kind !== Kind.STRING) throw invalid(shortened(print(node)), { input: true, node });
      if (!spec.isValid(node.value)) throw invalid(quotedPrefix(node.value), { input: true, node });
      return node.value;
    },
    extensions: { codegenScalarType: 'string' },
  });
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isDate(value: string): boolean {
  const match = DATE.exec(value);
  return match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

// RFC 3339 section 5.6 (T and Z may be lower case). Leap seconds (:60) are rejected because neither
// JS nor most clients can represent them.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

function isDateTime(value: string): boolean {
  const match = DATE_TIME.exec(value);
  if (!match || !isDate(match[1])) return false;
  // Checked field by field, without intermediate arrays: every DateTime of every answer passes here.
  return Number(match[2]) <= 23 && Number(match[3]) <= 59 && Number(match[4]) <= 59 && Number(match[5] ?? 0) <= 23 && Number(match[6] ?? 0) <= 59;
}

// RFC 4122 section 3 string form. Version and variant bits are not checked: ids come from upstream
// and a nil or non-v4 id is still an id we must be able to pass through.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// RFC 3986 URI (scheme required, so relative references are rejected): only characters the RFC
// allows, well-formed percent-encoding, and at most one fragment delimiter.
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]%]*$/;

function isUri(value: string): boolean {
  return URI.test(value) && !/%(?![0-9A-Fa-f]{2})/.test(value) && value.split('#').length <= 2;
}

export const UuidScalar = stringScalar({
  name: 'Uuid',
  description: 'RFC 4122 Universally unique identifier',
  expectation: 'expected an RFC 4122 UUID like 578936dc-8020-4022-a560-2f59d2dca9ee',
  isValid: (value) => UUID.test(value),
});

export const DateTimeScalar = stringScalar({
  name: 'DateTime',
  description: 'RFC 3339 Timestamp string (YYYY-MM-DDTHH:MM:SSZ)',
  expectation: 'expected an RFC 3339 timestamp like 2024-12-31T23:30:15Z',
  isValid: isDateTime,
});

export const DateScalar = stringScalar({
  name: 'Date',
  description: 'RFC3339 Date string (YYYY-MM-DD)',
  expectation: 'expected a calendar date like 2024-12-31',
  isValid: isDate,
});

export const UriScalar = stringScalar({
  name: 'Uri',
  description: 'RFC 3986 Uniform resource identifier',
  expectation: 'expected an absolute RFC 3986 URI like https://example.com',
  isValid: isUri,
});

export const ObisCodeScalar = stringScalar({
  name: 'ObisCode',
  description: 'ObisCode according to IEC 62056-6-1',
  expectation: OBIS_CODE_EXPECTATION,
  isValid: (value) => parseObisCode(value) !== undefined,
});

export const MeterNumberScalar = stringScalar({
  name: 'MeterNumber',
  description: 'Energy meter number',
  expectation: 'expected a non-empty meter number like 1EMH0007058153',
  isValid: (value) => value.trim() !== '',
});

/** Resolvers map for makeExecutableSchema and Mesh additionalResolvers. */
export const iometerScalars = {
  Uuid: UuidScalar,
  DateTime: DateTimeScalar,
  Date: DateScalar,
  Uri: UriScalar,
  ObisCode: ObisCodeScalar,
  MeterNumber: MeterNumberScalar,
};

export { formatObisCode, parseObisCode, type ObisCodeParts, type ObisFormat } from './obis';
