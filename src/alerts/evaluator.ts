import { decimalObisCode } from '../iometer/obis';
import type { Logger } from '../logging/logger';
import type { MeterReading, UpstreamConsumer } from '../subscriptions';
import type { AlertBus } from './bus';
import type { UsageAlertRules, UsageAlertRuleStore } from './rules';
import type { UsageAlert, UsageAlertKind } from './types';

const IMPORT = '1-0:1.8.0';
const POWER = '1-0:16.7.0';

/** A power alert ends only once power is this far below the threshold, so a reading wobbling around it does not flap. */
export const POWER_HYSTERESIS = 0.95;
/** How often NO_READING rules are checked. */
const SWEEP_MS = 15_000;
/** A process that was fed no reading for this long is not the one holding the upstream subscription: it sweeps nothing. */
const FED_RECENTLY_MS = 60_000;

interface CustomerState {
  /** The newest reading time seen: an older or repeated reading is not evaluated again. */
  lastReadingMs: number;
  /** Local date of `dayStartWh`, and the imported register at the day's first reading seen. */
  day?: string;
  dayStartWh?: number;
  active: Set<UsageAlertKind>;
}

export interface UsageAlertEvaluatorOptions {
  store: Pick<UsageAlertRuleStore, 'allRules' | 'rulesOf'>;
  bus: AlertBus;
  /** CONSUMPTION_TIME_ZONE: where a day starts for DAILY_ENERGY_ABOVE. */
  timeZone: string;
  logger: Logger;
  now?: () => number;
}

/**
 * Evaluates every customer's usage alert rules once per reading. It is an UpstreamConsumer of the
 * readings feed, so it runs only in the process holding the upstream subscription (with Redis: the
 * cluster's leader), once per reading whatever the number of clients and replicas; its alerts go to
 * every replica through the AlertBus. Rules and state are in memory: rules are loaded at start and
 * reloaded when the bus says a customer changed them; alert state starts empty (after a restart or a
 * leader change an alert that still holds is reported as started again).
 *
 * - POWER_ABOVE starts when a reading's power (1-0:16.7.0) exceeds the threshold and ends when one is
 *   below POWER_HYSTERESIS × threshold.
 * - DAILY_ENERGY_ABOVE starts when the imported energy since the first reading of the local day seen
 *   exceeds the threshold, and ends with the first reading of the next day.
 * - NO_READING starts when the customer's installation sent nothing for the given minutes (checked
 *   every SWEEP_MS, once a first reading was seen) and ends with its next reading. While the whole feed
 *   is silent (upstream down, or this process not the leader) nothing is swept: that is no installation's fault.
 */
export class UsageAlertEvaluator implements UpstreamConsumer {
  private rules = new Map<string, UsageAlertRules>();
  private readonly states = new Map<string, CustomerState>();
  private readonly dayFormat: Intl.DateTimeFormat;
  private readonly now: () => number;
  private lastFedMs = 0;
  private sweepTimer?: NodeJS.Timeout;
  private unlisten?: () => void;

  constructor(private readonly options: UsageAlertEvaluatorOptions) {
    this.dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: options.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.unlisten = this.options.bus.listen((message) => {
      if (message.type === 'rules') void this.reload(message.externalId);
    });
    this.rules = await this.options.store.allRules();
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.unlisten?.();
  }

  async beforeOpen(): Promise<void> {}

  onReading(reading: MeterReading): void {
    this.lastFedMs = this.now();
    const externalId = reading.installation.externalId;
    if (!externalId) return;
    const rules = this.rules.get(externalId);
    if (!rules) return;
    const timeMs = Date.parse(reading.time);
    const state = this.states.get(externalId) ?? { lastReadingMs: Number.NEGATIVE_INFINITY, active: new Set<UsageAlertKind>() };
    this.states.set(externalId, state);
    if (!(timeMs > state.lastReadingMs)) return;
    const gapMinutes = (timeMs - state.lastReadingMs) / 60_000;
    state.lastReadingMs = timeMs;

    let powerW: number | undefined;
    let importedWh: number | undefined;
    for (const { obisCode, value, unit } of reading.values) {
      const code = decimalObisCode(obisCode);
      if (code === POWER && unit === 'W') powerW = value;
      else if (code === IMPORT && unit === 'Wh') importedWh = value;
    }
    const emit = (kind: UsageAlertKind, started: boolean, value: number, threshold: number) =>
      this.emit(externalId, state, kind, started, { at: reading.time, value, threshold });

    if (rules.noReadingForMinutes !== null && state.active.has('NO_READING')) emit('NO_READING', false, gapMinutes, rules.noReadingForMinutes);
    if (rules.powerAboveW !== null && powerW !== undefined) {
      if (powerW > rules.powerAboveW) emit('POWER_ABOVE', true, powerW, rules.powerAboveW);
      else if (powerW < rules.powerAboveW * POWER_HYSTERESIS) emit('POWER_ABOVE', false, powerW, rules.powerAboveW);
    }
    if (rules.dailyEnergyAboveKwh !== null && importedWh !== undefined) {
      const day = this.dayFormat.format(timeMs);
      if (state.day !== day) {
        emit('DAILY_ENERGY_ABOVE', false, 0, rules.dailyEnergyAboveKwh);
        state.day = day;
        state.dayStartWh = importedWh;
      }
      const todayKwh = (importedWh - state.dayStartWh!) / 1000;
      if (todayKwh > rules.dailyEnergyAboveKwh) emit('DAILY_ENERGY_ABOVE', true, todayKwh, rules.dailyEnergyAboveKwh);
    }
  }

  /** Reports a crossing only: an alert already started does not start again, one not started does not end. */
  private emit(externalId: string, state: CustomerState, kind: UsageAlertKind, started: boolean, event: Pick<UsageAlert, 'at' | 'value' | 'threshold'>): void {
    if (state.active.has(kind) === started) return;
    if (started) state.active.add(kind);
    else state.active.delete(kind);
    this.options.bus.publish({ type: 'alert', externalId, alert: { kind, state: started ? 'STARTED' : 'ENDED', ...event } });
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastFedMs > FED_RECENTLY_MS) return;
    for (const [externalId, rules] of this.rules) {
      const state = this.states.get(externalId);
      if (rules.noReadingForMinutes === null || !state || !Number.isFinite(state.lastReadingMs)) continue;
      const minutes = (now - state.lastReadingMs) / 60_000;
      if (minutes > rules.noReadingForMinutes) {
        this.emit(externalId, state, 'NO_READING', true, { at: new Date(now).toISOString(), value: Math.floor(minutes), threshold: rules.noReadingForMinutes });
      }
    }
  }

  private async reload(externalId: string): Promise<void> {
    try {
      const rules = await this.options.store.rulesOf(externalId);
      const any = rules.powerAboveW !== null || rules.dailyEnergyAboveKwh !== null || rules.noReadingForMinutes !== null;
      if (any) this.rules.set(externalId, rules);
      else this.rules.delete(externalId);
      // A rule changed: what was reported under the old one no longer applies.
      this.states.get(externalId)?.active.clear();
    } catch (error) {
      this.options.logger.error({ err: error, externalId }, 'usage alerts: rules could not be reloaded; the previous ones stay in force');
    }
  }
}
