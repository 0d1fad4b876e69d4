import { useGenericAuth } from '@envelop/generic-auth';
import { GraphQLError } from 'graphql';
import { maySelect } from '../authorization/policy';
import { unauthenticatedError, type Identity } from '../identity';

/**
 * Field-level authorization as a validation rule over the whole operation (aliases, fragments,
 * nested stitched fields, each operation of a batch), so a forbidden field is refused before
 * anything executes or reaches IOmeter.
 */
export function useAuthorization() {
  return useGenericAuth<Identity, { identity?: Identity }, 'identity'>({
    mode: 'protect-all',
    contextFieldName: 'identity',
    resolveUserFn: (context) => context.identity ?? null,
    validateUser: ({ user, parentType, field, fieldNode }) => {
      if (!user) return unauthenticatedError('missing');
      if (maySelect(user.role, parentType.name, field.name)) return undefined;
      return new GraphQLError(`${parentType.name}.${field.name} is not available to the ${user.role} role.`, {
        nodes: [fieldNode],
        extensions: { code: 'FORBIDDEN', http: { status: 403 } },
      });
    },
  });
}
