import { GraphQLError, OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context';
import { delegateToGateway, selectionOf } from './gatewayDelegation';
import { chooseRegistration, today, type LicensePoolSummary, type SigningKeySummary } from '../customers/onboarding';

export interface RegistrationRequest {
  externalId: string;
  licensePoolId?: string | null;
  signingKeyId?: string | null;
  startDate?: string | null;
}

/**
 * Creates the IOmeter registration token for a known customer: looks up the signing keys and license
 * pools, applies the request and the configured defaults, then runs createRegistrationToken with the
 * caller's selection.
 */
export async function createRegistrationFor(
  request: RegistrationRequest,
  context: GatewayContext,
  info: GraphQLResolveInfo,
): Promise<unknown> {
  const customer = await context.customerLoaders.customerByExternalId.load(request.externalId);
  if (!customer) {
    throw new GraphQLError(`No customer has externalId ${request.externalId}.`, {
      extensions: { code: 'NOT_FOUND', field: 'externalId' },
    });
  }
  const available = (await delegateToGateway({
    operation: OperationTypeNode.QUERY,
    fieldName: 'provider',
    selectionSet: '{ signingKeys { id enabled } licensePools { id size usage } }',
    context,
    info,
  })) as { signingKeys: SigningKeySummary[]; licensePools: LicensePoolSummary[] } | Error;
  if (available instanceof Error) throw available;
  const choice = chooseRegistration(request, context.registrationDefaults, available);
  return delegateToGateway({
    operation: OperationTypeNode.MUTATION,
    fieldName: 'createRegistrationToken',
    args: {
      externalId: customer.externalId,
      signingKeyId: choice.signingKeyId,
      license: { poolId: choice.poolId, startDate: request.startDate ?? today() },
    },
    selectionSet: selectionOf(info),
    context,
    info,
  });
}
