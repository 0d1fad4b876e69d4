import { useGenericAuth } from '@envelop/generic-auth';
import { GraphQLError } from 'graphql';
import { unauthenticatedError, type Identity, type Role } from '../identity';
import { skipWhereAllAllowed } from './skipWhereAllAllowed';

/**
 * Where a customer may start: their own customer record, their own registration, their own
 * readings and their own usage alerts. Everything reachable from these roots is the customer's own data.
 */
const CUSTOMER_ROOT_FIELDS = new Set([
  'Query.me',
  'Mutation.registerMyMeter',
  'Mutation.setMyUsageAlerts',
  'Subscription.myReadings',
  'Subscription.myUsageAlerts',
]);

/** Provider-wide data that hangs off a customer's own objects: the license pool's size and usage. */
const CUSTOMER_DENIED_FIELDS = new Set(['IometerLicense.pool']);

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** Roles that may select every field. */
const UNRESTRICTED_ROLES: ReadonlySet<Role> = new Set<Role>(['staff']);

/** Whether a role may select `typeName.fieldName`. Staff may select everything. */
function maySelect(role: Role, typeName: string, fieldName: string): boolean {
  if (UNRESTRICTED_ROLES.has(role)) return true;
  const coordinate = `${typeName}.${fieldName}`;
  if (ROOT_TYPES.has(typeName)) return CUSTOMER_ROOT_FIELDS.has(coordinate);
  return !CUSTOMER_DENIED_FIELDS.has(coordinate);
}

/**
 * Field-level authorization as a validation rule over the whole operation (aliases, fragments,
 * nested stitched fields, each operation of a batch), so a forbidden field is refused before
 * anything executes or reaches IOmeter.
 */
export function useAuthorization() {
  const authorize = useGenericAuth<Identity, { identity?: Identity }, 'identity'>({
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
  return skipWhereAllAllowed(authorize, UNRESTRICTED_ROLES);
}
