import { readingValues, type ReadingValue } from './meterValues';
import type { World } from './world';

/** A reading as IOmeter's readings feed reports it. */
export interface HistoricReading {
  meter: { id: string; number: string };
  installation: { id: string; externalId: string };
  time: string;
  receiveTime: string;
  values: ReadingValue[];
}

/**
 * The readings every installation with a customer number would have reported at `times`: for each
 * time, one per meter active then, with the values the simulator reports for that meter and time
 * (pure functions of both, so they join up with the live readings that follow). The sandbox seeds
 * its reading archive with these, so consumption and reading history have something to show.
 */
export function* historicReadings(world: World, times: Iterable<number>): Generator<HistoricReading> {
  for (const time of times) {
    for (const installation of world.installations) {
      if (installation.externalId === undefined) continue;
      for (const meter of installation.meters) {
        if (time < meter.activeFrom || (meter.activeUntil !== undefined && time >= meter.activeUntil)) continue;
        yield {
          meter: { id: meter.id, number: meter.number },
          installation: { id: installation.id, externalId: installation.externalId },
          time: new Date(time).toISOString(),
          receiveTime: new Date(time + 1_000).toISOString(),
          values: readingValues(meter, time),
        };
      }
    }
  }
}
