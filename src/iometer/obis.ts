/**
 * OBIS codes (IEC 62056-6-1) in the two spellings the IOmeter API uses:
 * decimal `A-B:C.D.E` (`1-0:1.8.0`) and hexadecimal `AA-BB:CC.DD.EE*FF` (`01-00:01.08.00*ff`).
 *
 * The decimal spelling has no F group, so the group count tells the formats apart:
 * `01-00:01.08.00` is decimal with leading zeros, never hex. Converting a hex code whose F group
 * is not ff to decimal drops F, as the API's own dec format does.
 */

export type ObisFormat = 'dec' | 'hex';

export interface ObisCodeParts {
  /** Medium (1 = electricity). */
  a: number;
  /** Channel. */
  b: number;
  /** Measured quantity. */
  c: number;
  /** Measurement type. */
  d: number;
  /** Tariff. */
  e: number;
  /** Historical value; 255 (ff) means "current". */
  f: number;
}

const DEC = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX = /^([0-9a-f]{2})-([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f]{2})\.([0-9a-f]{2})\*([0-9a-f]{2})$/i;

export const OBIS_CODE_EXPECTATION =
  'expected an OBIS code in decimal (1-0:1.8.0) or hexadecimal (01-00:01.08.00*ff) format';

/** Returns undefined for anything that is not an OBIS code in either format. */
export function parseObisCode(code: string): ObisCodeParts | undefined {
  const hex = HEX.exec(code);
  if (hex) {
    const [a, b, c, d, e, f] = hex.slice(1).map((group) => parseInt(group, 16));
    return { a, b, c, d, e, f };
  }
  const dec = DEC.exec(code);
  if (!dec) return undefined;
  const groups = dec.slice(1).map(Number);
  if (groups.some((group) => group > 255)) return undefined;
  const [a, b, c, d, e] = groups;
  return { a, b, c, d, e, f: 255 };
}

export function formatObisCode(code: string | ObisCodeParts, format: ObisFormat): string {
  const parts = typeof code === 'string' ? parseObisCode(code) : code;
  if (!parts) throw new TypeError(`"${String(code)}" is not an OBIS code: ${OBIS_CODE_EXPECTATION}`);
  const { a, b, c, d, e, f } = parts;
  if (format === 'dec') return `${a}-${b}:${c}.${d}.${e}`;
  const hex = (group: number) => group.toString(16).padStart(2, '0');
  return `${hex(a)}-${hex(b)}:${hex(c)}.${hex(d)}.${hex(e)}*${hex(f)}`;
}

/** Spellings seen so far; a fleet sends the same few codes with every reading. Bounded against junk. */
const decimalSpellings = new Map<string, string>();
const MAX_REMEMBERED_SPELLINGS = 10_000;

/** The decimal spelling of a code as sent (the code itself if it does not parse), remembered per spelling. */
export function decimalObisCode(code: string): string {
  let decimal = decimalSpellings.get(code);
  if (decimal === undefined) {
    const parts = parseObisCode(code);
    decimal = parts ? formatObisCode(parts, 'dec') : code;
    if (decimalSpellings.size < MAX_REMEMBERED_SPELLINGS) decimalSpellings.set(code, decimal);
  }
  return decimal;
}
