import { GraphQLError } from 'graphql';
import type { UsageAlertRules } from '../src/alerts/rules';
import type { UsageAlert } from '../src/alerts/types';
import type { GatewayContext } from '../src/context';
import type { Customer } from '../src/customers/types';
import { withInputErrors } from './inputErrors';

function signedInCustomer(context: GatewayContext): string {
  if (context.identity.role !== 'customer') {
    throw new GraphQLError('Only a customer can use this field.', { extensions: { code: 'FORBIDDEN' } });
  }
  return context.identity.externalId;
}

export const resolvers = {
  Mutation: {
    setMyUsageAlerts: (_root: unknown, { input }: { input: Partial<UsageAlertRules> }, context: GatewayContext) =>
      withInputErrors(async () => {
        const externalId = signedInCustomer(context);
        const rules = await context.usageAlerts.store.setRules(externalId, input);
        if (!rules) throw new GraphQLError(`No customer ${externalId} exists.`, { extensions: { code: 'NOT_FOUND' } });
        // The evaluator (maybe on another replica) picks the new rules up from the bus. Cached responses
        // holding UsageAlertRules go by the result's type name (the response cache's own invalidation).
        context.usageAlerts.bus.publish({ type: 'rules', externalId });
        return rules;
      }),
  },
  Customer: {
    usageAlerts: (customer: Customer, _args: unknown, context: GatewayContext) => context.usageAlerts.rules.load(customer.externalId),
  },
  Subscription: {
    myUsageAlerts: {
      subscribe: (_root: unknown, _args: unknown, context: GatewayContext) => context.usageAlerts.live.subscribe(signedInCustomer(context)),
      resolve: (alert: UsageAlert) => alert,
    },
  },
};
