import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../config';

function limitError(message: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status } } });
}

/** Refuses oversized documents before they are parsed. */
function useDocumentSizeLimit(maxBytes: number): Plugin {
  return {
    onParams({ params, setResult }) {
      if (typeof params.query === 'string' && Buffer.byteLength(params.query, 'utf8') > maxBytes) {
        setResult({ errors: [limitError(`The document exceeds ${maxBytes} bytes.`, 413)] });
      }
    },
  };
}

/**
 * graphql-armor's limits: tokens (a parse error, GRAPHQL_PARSE_FAILED), depth, aliases and cost
 * (validation errors, GRAPHQL_VALIDATION_FAILED), each configurable through LIMIT_* variables.
 */
export function useOperationLimits(limits: GatewayConfig['limits']): Plugin[] {
  return [
    useDocumentSizeLimit(limits.maxDocumentBytes),
    maxTokensPlugin({ n: limits.maxTokens }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true }),
    maxAliasesPlugin({ n: limits.maxAliases }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true }),
  ] as Plugin[];
}
