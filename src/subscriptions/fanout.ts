/**
 * Who gets a reading: clients indexed by the installation (externalId) they are scoped to, plus
 * the clients that want every installation. Routing a reading touches only the clients it goes to,
 * never the whole client list, so a customer's reading costs O(1) per matching client however many
 * other customers are connected.
 */
export class FanoutIndex<C> {
  private readonly byInstallation = new Map<string, Set<C>>();
  private readonly everything = new Set<C>();
  private count = 0;

  /** `externalId` undefined: every installation (staff). */
  add(externalId: string | undefined, client: C): void {
    let clients = externalId === undefined ? this.everything : this.byInstallation.get(externalId);
    if (!clients) {
      clients = new Set();
      this.byInstallation.set(externalId as string, clients);
    }
    if (clients.has(client)) return;
    clients.add(client);
    this.count += 1;
  }

  remove(externalId: string | undefined, client: C): void {
    const clients = externalId === undefined ? this.everything : this.byInstallation.get(externalId);
    if (!clients?.delete(client)) return;
    this.count -= 1;
    if (externalId !== undefined && clients.size === 0) this.byInstallation.delete(externalId);
  }

  /** Deleting while iterating is safe: a client that stops mid-delivery is simply skipped. */
  *matching(externalId: string | null): Generator<C> {
    yield* this.everything;
    if (externalId !== null) {
      const clients = this.byInstallation.get(externalId);
      if (clients) yield* clients;
    }
  }

  /** A snapshot, for failing or ending every client (which removes them as it goes). */
  all(): C[] {
    return [...this.everything, ...[...this.byInstallation.values()].flatMap((clients) => [...clients])];
  }

  get size(): number {
    return this.count;
  }
}
