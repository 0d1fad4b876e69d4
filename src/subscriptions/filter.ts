interface ReadingOfInstallation {
  installation?: { externalId?: string | null } | null;
}

/** Passes on only the readings of one installation, and ends with its source. */
export async function* onlyInstallation<T>(readings: AsyncIterable<T>, externalId: string): AsyncGenerator<T> {
  for await (const reading of readings) {
    if ((reading as ReadingOfInstallation)?.installation?.externalId === externalId) yield reading;
  }
}
