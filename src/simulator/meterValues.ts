import { hashUnit } from './random';
import type { LoadProfile, Meter } from './model';

/**
 * Reading values as a pure function of (meter, time). Registers are integrals of a fixed daily
 * power curve, so they are monotonic and agree with the instantaneous power no matter when or how
 * often a reading is generated, and two simulators with the same seed report the same numbers.
 */

export const OBIS_IMPORT = '1-0:1.8.0';
export const OBIS_EXPORT = '1-0:2.8.0';
export const OBIS_POWER = '1-0:16.7.0';

export interface ReadingValue {
  obisCode: string;
  value: number;
  unit: string;
}

const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1_440;
// The daily curve follows German winter time; a fixed offset keeps days equally long.
const LOCAL_OFFSET_MS = 3_600_000;

/** Household archetypes, before the per-installation scale. */
const ARCHETYPES = [
  { averageLoadW: 250, pvPeakW: 0 },
  { averageLoadW: 450, pvPeakW: 0 },
  { averageLoadW: 700, pvPeakW: 0 },
  { averageLoadW: 400, pvPeakW: 2_000 },
  { averageLoadW: 550, pvPeakW: 4_000 },
];
export const ARCHETYPE_COUNT = ARCHETYPES.length;

export function hasPv(load: LoadProfile): boolean {
  return ARCHETYPES[load.archetype].pvPeakW > 0;
}

const bump = (hour: number, centre: number, width: number) => {
  const distance = Math.min(Math.abs(hour - centre), 24 - Math.abs(hour - centre));
  return Math.exp(-(distance * distance) / (2 * width * width));
};

/** Night base load with breakfast, lunch and evening peaks. */
const consumptionShape = (hour: number) =>
  0.45 + 0.9 * bump(hour, 7.5, 1.2) + 0.5 * bump(hour, 12.5, 1.5) + 1.4 * bump(hour, 19.5, 1.8);

/** Generation between 06:00 and 20:00, peaking at 13:00. */
const pvShape = (hour: number) => (hour > 6 && hour < 20 ? Math.sin((Math.PI * (hour - 6)) / 14) ** 2 : 0);

interface DayCurve {
  /** Net power (consumption minus generation) per minute of the day. */
  netW: Float64Array;
  /** Cumulative imported / exported energy at the start of each minute; index 1440 is the day total. */
  importWh: Float64Array;
  exportWh: Float64Array;
}

function buildDayCurve(archetype: (typeof ARCHETYPES)[number]): DayCurve {
  const hourOf = (minute: number) => (minute + 0.5) / 60;
  let shapeSum = 0;
  for (let minute = 0; minute < MINUTES_PER_DAY; minute++) shapeSum += consumptionShape(hourOf(minute));
  const loadScale = (archetype.averageLoadW * MINUTES_PER_DAY) / shapeSum;

  const curve: DayCurve = {
    netW: new Float64Array(MINUTES_PER_DAY),
    importWh: new Float64Array(MINUTES_PER_DAY + 1),
    exportWh: new Float64Array(MINUTES_PER_DAY + 1),
  };
  for (let minute = 0; minute < MINUTES_PER_DAY; minute++) {
    const hour = hourOf(minute);
    const net = loadScale * consumptionShape(hour) - archetype.pvPeakW * pvShape(hour);
    curve.netW[minute] = net;
    curve.importWh[minute + 1] = curve.importWh[minute] + Math.max(net, 0) / 60;
    curve.exportWh[minute + 1] = curve.exportWh[minute] + Math.max(-net, 0) / 60;
  }
  return curve;
}

const DAY_CURVES = ARCHETYPES.map(buildDayCurve);

function localPosition(time: number) {
  const local = time + LOCAL_OFFSET_MS;
  const day = Math.floor(local / DAY_MS);
  const minutes = (local - day * DAY_MS) / 60_000;
  const minute = Math.floor(minutes);
  return { day, minute, fraction: minutes - minute };
}

/** Energy since the epoch for an unscaled archetype, linear within a minute. */
function energySinceEpochWh(cumulative: Float64Array, time: number): number {
  const { day, minute, fraction } = localPosition(time);
  const withinMinute = cumulative[minute + 1] - cumulative[minute];
  return day * cumulative[MINUTES_PER_DAY] + cumulative[minute] + fraction * withinMinute;
}

const roundTo = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

export function readingValues(meter: Meter, time: number): ReadingValue[] {
  const { load } = meter.installation;
  const curve = DAY_CURVES[load.archetype];
  const register = (cumulative: Float64Array, offsetWh: number) =>
    roundTo(
      offsetWh +
        load.scale * (energySinceEpochWh(cumulative, time) - energySinceEpochWh(cumulative, meter.activeFrom)),
      1,
    );
  // Instantaneous power wobbles around the curve the registers integrate (±5 %).
  const noise = 1 + (hashUnit(meter.id, time, 'power') - 0.5) * 0.1;
  const powerW = meter.installation.powerOverrideW ?? Math.round(load.scale * curve.netW[localPosition(time).minute] * noise);

  const values: ReadingValue[] = [{ obisCode: OBIS_IMPORT, value: register(curve.importWh, meter.importOffsetWh), unit: 'Wh' }];
  if (hasPv(load)) {
    values.push({ obisCode: OBIS_EXPORT, value: register(curve.exportWh, meter.exportOffsetWh), unit: 'Wh' });
  }
  values.push({ obisCode: OBIS_POWER, value: powerW, unit: 'W' });
  return values;
}
