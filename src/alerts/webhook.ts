import { createHmac } from 'node:crypto';
import type { Logger } from '../logging/logger';
import type { AlertBus } from './bus';
import type { AlertMessage } from './types';

export const SIGNATURE_HEADER = 'x-iometer-signature';
export const TIMESTAMP_HEADER = 'x-iometer-timestamp';

/** Attempts per alert; waits between them double from ALERT_WEBHOOK_RETRY_DELAY (1, 2, 4, 8 s by default). */
const ATTEMPTS = 5;
/** Bound on one attempt. */
const ATTEMPT_TIMEOUT_MS = 5_000;
/** Alerts waiting for delivery; beyond this, new ones are dropped (logged and counted), never the feed slowed. */
const MAX_PENDING = 10_000;

export type WebhookOutcome = 'delivered' | 'failed' | 'dropped';

export interface AlertWebhookOptions {
  url: string;
  secret: string;
  retryDelayMs: number;
  logger: Logger;
  count: (outcome: WebhookOutcome) => void;
}

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with ALERT_WEBHOOK_SECRET: the receiver
 * recomputes it to know the gateway sent the alert, and refuses old timestamps to stop replays.
 */
export function signAlert(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs each alert to the provider's push service (ALERT_WEBHOOK_URL) as `{ externalId, alert }`,
 * signed, retried with doubling waits on a network error or a non-2xx answer. Sending never blocks
 * the caller: deliveries run in the background, bounded by MAX_PENDING.
 */
export class AlertWebhook {
  private pending = 0;

  constructor(private readonly options: AlertWebhookOptions) {}

  send(message: Extract<AlertMessage, { type: 'alert' }>): void {
    if (this.pending >= MAX_PENDING) {
      this.options.count('dropped');
      this.options.logger.warn({ externalId: message.externalId, kind: message.alert.kind }, 'alert webhook: too many alerts pending; this one is dropped');
      return;
    }
    this.pending += 1;
    void this.deliver(JSON.stringify({ externalId: message.externalId, alert: message.alert })).finally(() => (this.pending -= 1));
  }

  private async deliver(body: string): Promise<void> {
    let problem = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signAlert(this.options.secret, timestamp, body) },
          body,
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.options.count('delivered');
          return;
        }
        problem = `HTTP ${response.status}`;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs * 2 ** (attempt - 1)).unref());
    }
    this.options.count('failed');
    this.options.logger.warn({ attempts: ATTEMPTS, problem }, 'alert webhook: an alert could not be delivered');
  }
}

/** The evaluator's bus: every alert also goes to the webhook, from the one process that evaluates it. */
export function withWebhook(bus: AlertBus, webhook: AlertWebhook | undefined): AlertBus {
  if (!webhook) return bus;
  return {
    ...bus,
    publish(message) {
      bus.publish(message);
      if (message.type === 'alert') webhook.send(message);
    },
  };
}
