import type { GatewayContext } from '../src/context';
import type { Actor } from '../src/customers/audit';
import type { ContractChange, Customer, TariffInput, UpsertContractInput } from '../src/customers';
import { withInputErrors } from './inputErrors';

/*
 * Tariffs and contracts through the graph. Staff only: useAuthorization refuses these root fields to
 * customers (FORBIDDEN), who see their own contracts through `me`.
 */

const actorOf = (context: GatewayContext): Actor => ({ subject: context.identity.subject, via: context.identity.via });

/** Records a contract change: audited, and the customer's cached responses (consumption included) invalidated. */
function contractChanged(context: GatewayContext, action: string, change: ContractChange) {
  context.audit({ by: actorOf(context), action, entity: 'Contract', change });
  if (change.before !== change.after) context.changedCustomers.add(change.customerExternalId);
  return change.after;
}

export const resolvers = {
  Mutation: {
    upsertTariff: (_root: unknown, { input }: { input: TariffInput }, context: GatewayContext) =>
      withInputErrors(async () => {
        const change = await context.customerStore.upsertTariff(input);
        context.audit({ by: actorOf(context), action: 'upsertTariff', entity: 'Tariff', change });
        return change.after;
      }),
    upsertContract: (_root: unknown, { input }: { input: UpsertContractInput }, context: GatewayContext) =>
      withInputErrors(async () => contractChanged(context, 'upsertContract', await context.customerStore.upsertContract(input))),
    endContract: (_root: unknown, args: { id: string; endDate: string }, context: GatewayContext) =>
      withInputErrors(async () => contractChanged(context, 'endContract', await context.customerStore.endContract(args))),
  },
  Customer: {
    contracts: (customer: Customer, _args: unknown, context: GatewayContext) => context.customerLoaders.contractsByCustomerId.load(customer.id),
  },
};
