/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type ContractStatus =
  | 'active'
  | 'cancelled'
  | 'ended'
  | 'pending';

export type CustomerOverviewQueryVariables = Exact<{
  externalId: string;
}>;


export type CustomerOverviewQuery = { customer: { externalId: string, name: string, contract: { status: ContractStatus, tariff: { name: string, energyPriceCtPerKwh: number } } | null, installation: { id: string, currentMeter: { number: string } | null } | null } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const CustomerOverviewDocument = new TypedDocumentString(`
    query CustomerOverview($externalId: String!) {
  customer(externalId: $externalId) {
    externalId
    name
    contract {
      status
      tariff {
        name
        energyPriceCtPerKwh
      }
    }
    installation {
      id
      currentMeter {
        number
      }
    }
  }
}
    `) as unknown as TypedDocumentString<CustomerOverviewQuery, CustomerOverviewQueryVariables>;