import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../src/context';
import type { Contract, Customer, CustomerConnection } from '../src/customers/types';
import { createRegistrationFor } from '../src/stitching/registration';
import { withInputErrors } from './inputErrors';

/** How long a response showing a customer without an installation may be served from the cache. */
const PENDING_INSTALLATION_TTL_MS = 5_000;

function exactlyOne(args: Record<string, unknown>, names: string[]): void {
  if (names.filter((name) => args[name] != null).length !== 1) {
    throw new GraphQLError(`Provide exactly one of ${names.join(' or ')}.`, {
      extensions: { code: 'BAD_USER_INPUT', field: names.join('|') },
    });
  }
}

const customerOfInstallation = {
  selectionSet: '{ externalId }',
  resolve: (installation: { externalId?: string | null }, _args: unknown, context: GatewayContext) => {
    if (!installation.externalId) return null;
    // A list of installations would otherwise cost a promise per customer, even when all are known.
    const known = context.customerStore.knownByExternalId(installation.externalId);
    return known !== undefined ? known : context.customerLoaders.customerByExternalId.load(installation.externalId);
  },
};

export const resolvers = {
  Query: {
    customer: (_root: unknown, args: { id?: string; externalId?: string }, context: GatewayContext) => {
      exactlyOne(args, ['id', 'externalId']);
      return args.id
        ? context.customerLoaders.customerById.load(args.id)
        : context.customerLoaders.customerByExternalId.load(args.externalId!);
    },
    customers: (_root: unknown, args: { search?: string; first?: number; after?: string }, context: GatewayContext) =>
      withInputErrors(() => context.customerStore.searchCustomers(args)),
  },
  Mutation: {
    upsertCustomer: (_root: unknown, { input }: { input: Parameters<GatewayContext['customerStore']['upsertCustomer']>[0] }, context: GatewayContext) =>
      withInputErrors(() => context.customerStore.upsertCustomer(input)),
    onboardCustomer: (
      _root: unknown,
      args: { externalId: string; licensePoolId?: string; signingKeyId?: string; startDate?: string },
      context: GatewayContext,
      info: GraphQLResolveInfo,
    ) =>
      createRegistrationFor(
        args,
        { customers: context.customerLoaders.customerByExternalId, defaults: context.registrationDefaults },
        context,
        info,
      ),
  },
  Customer: {
    contract: (customer: Customer, _args: unknown, context: GatewayContext) => context.customerLoaders.contractByCustomerId.load(customer.id),
    installation: async (customer: Customer, _args: unknown, context: GatewayContext, info: GraphQLResolveInfo) => {
      const installation = await context.loadInstallation(context, info, { externalId: customer.externalId });
      // Onboarding completes when the app redeems its token at IOmeter, which tells the gateway
      // nothing: a customer still without an installation is cached only briefly, so the installation
      // shows up within seconds of the redeem (onboardCustomer itself invalidates at once).
      if (installation == null) context.responseTtl.lower(PENDING_INSTALLATION_TTL_MS);
      return installation;
    },
    createdAt: (customer: Customer) => customer.createdAt.toISOString(),
    updatedAt: (customer: Customer) => customer.updatedAt.toISOString(),
  },
  Contract: {
    tariff: (contract: Contract, _args: unknown, context: GatewayContext) => context.customerLoaders.tariffById.load(contract.tariffId),
  },
  CustomerConnection: {
    pageInfo: (connection: CustomerConnection) => ({ hasNextPage: connection.hasNextPage, endCursor: connection.endCursor }),
  },
  IometerInstallation: { customer: customerOfInstallation },
  IometerMeterReadingInstallation: { customer: customerOfInstallation },
};
