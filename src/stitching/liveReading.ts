import type { GatewayContext } from '../context';
import { noteEventPosition } from '../plugins/useSseResume';

/**
 * The `resolve` of every live-readings subscription field. It passes the payload through, notes its
 * position for the SSE event id, and points stitched customer fields and the lazy installation fields
 * (readingMeter) at the process-wide expiring loaders: a subscription lasts hours, and its own loaders
 * would keep every customer and installation it loaded for all that time, while fresh loaders per
 * event would query once per event and client.
 */
export function liveReading<T extends object>(payload: T, _args: unknown, context: GatewayContext): T {
  context.customerLoaders = context.liveCustomerLoaders;
  context.loadInstallation = context.liveLoadInstallation;
  noteEventPosition(context, context.readingHub.positionOf(payload));
  return payload;
}
