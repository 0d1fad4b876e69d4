import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Identity } from '../identity';
import { identityOf } from './useAuthentication';

const SUGGESTION = /\s*Did you mean .+\?$/;

/**
 * The schema is staff knowledge: customers get no introspection (unless configured) and no
 * "Did you mean …?" hints that would let them map the schema by guessing.
 */
export function useSchemaVisibility({ customerIntrospection }: { customerIntrospection: boolean }): Plugin {
  return {
    onValidate({ context, addValidationRule }) {
      const identity = identityOf(context as { identity?: Identity; request?: Request });
      if (identity?.role === 'staff') return undefined;
      if (!customerIntrospection) addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(
          result.map((error) =>
            SUGGESTION.test(error.message)
              ? new GraphQLError(error.message.replace(SUGGESTION, ''), { nodes: error.nodes, extensions: error.extensions })
              : error,
          ),
        );
      };
    },
  };
}
