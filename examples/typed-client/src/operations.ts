import { graphql } from './gql';

/** A support screen: who the customer is, what they pay, and which meter their IOmeter reads. */
export const CustomerOverview = graphql(`
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
`);
