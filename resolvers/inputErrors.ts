import { GraphQLError } from 'graphql';
import { CustomerInputError } from '../src/customers/errors';

/** Domain input errors become GraphQL errors clients can branch on, naming the field. */
export async function withInputErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CustomerInputError) {
      throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: error.field } });
    }
    throw error;
  }
}
