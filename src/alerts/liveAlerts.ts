import { Repeater } from 'graphql-yoga';
import type { AlertBus } from './bus';
import type { AlertMessage, UsageAlert, UsageAlertKind } from './types';

/**
 * Every replica's view of which alerts hold right now, kept from the bus, so a client that subscribes
 * while an alert holds learns of it at once (a crossing happens once; a client connecting after it
 * would otherwise never hear of it). Bounded by customers × kinds; a rules change clears a customer.
 */
export class LiveAlerts {
  private readonly holding = new Map<string, Map<UsageAlertKind, UsageAlert>>();
  private readonly unlisten: () => void;

  constructor(private readonly bus: AlertBus) {
    this.unlisten = bus.listen((message) => this.note(message));
  }

  /** The customer's alerts: those holding now first, then each crossing as it happens, never the same state twice in a row. */
  subscribe(externalId: string): AsyncIterable<UsageAlert> {
    return new Repeater<UsageAlert>(async (push, stop) => {
      const sent = new Map<UsageAlertKind, UsageAlert['state']>();
      const send = (alert: UsageAlert) => {
        if (sent.get(alert.kind) === alert.state) return;
        sent.set(alert.kind, alert.state);
        void push(alert);
      };
      const unlisten = this.bus.listen((message) => {
        if (message.type === 'alert' && message.externalId === externalId) send(message.alert);
      });
      for (const alert of this.holding.get(externalId)?.values() ?? []) send(alert);
      await stop;
      unlisten();
    });
  }

  close(): void {
    this.unlisten();
    this.holding.clear();
  }

  private note(message: AlertMessage): void {
    if (message.type === 'rules') {
      this.holding.delete(message.externalId);
      return;
    }
    const { externalId, alert } = message;
    const alerts = this.holding.get(externalId) ?? new Map<UsageAlertKind, UsageAlert>();
    if (alert.state === 'STARTED') alerts.set(alert.kind, alert);
    else alerts.delete(alert.kind);
    if (alerts.size > 0) this.holding.set(externalId, alerts);
    else this.holding.delete(externalId);
  }
}
