import { GraphQLError, OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import {
  chooseRegistration,
  today,
  type LicensePoolSummary,
  type RegistrationDefaults,
  type SigningKeySummary,
} from '../customers/onboarding';
import type { Customer } from '../customers/types';
import { shortened } from '../shared/quote';
import { delegateToGateway, selectionOf } from './gatewayDelegation';

export interface RegistrationRequest {
  externalId: string;
  licensePoolId?: string | null;
  signingKeyId?: string | null;
  startDate?: string | null;
}

/** What a registration is decided from, besides the request and what IOmeter offers. */
export interface RegistrationSources {
  /** The caller's customer loader (see CustomerLoaders.customerByExternalId). */
  customers: { load(externalId: string): Promise<Customer | null> };
  /** IOMETER_DEFAULT_LICENSE_POOL_ID and IOMETER_DEFAULT_SIGNING_KEY_ID. */
  defaults: RegistrationDefaults;
}

/**
 * Creates the IOmeter registration token for a known customer: looks up the signing keys and license
 * pools, applies the request and the configured defaults, then runs createRegistrationToken with the
 * caller's selection. Both run through the gateway's schema with the caller's context and info.
 */
export async function createRegistrationFor(
  request: RegistrationRequest,
  { customers, defaults }: RegistrationSources,
  context: object,
  info: GraphQLResolveInfo,
): Promise<unknown> {
  const customer = await customers.load(request.externalId);
  if (!customer) {
    throw new GraphQLError(`No customer has externalId ${shortened(request.externalId)}.`, {
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
  const choice = chooseRegistration(request, defaults, available);
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
