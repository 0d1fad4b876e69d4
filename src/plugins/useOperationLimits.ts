import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { composePlugins } from './compose';

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

/** LIMIT_* (src/config.ts). */
export interface OperationLimits {
  maxDocumentBytes: number;
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

/**
 * The document's size, then graphql-armor's limits: tokens (a parse error, GRAPHQL_PARSE_FAILED), depth,
 * aliases and cost (validation errors, GRAPHQL_VALIDATION_FAILED), each configurable through LIMIT_* variables.
 */
export function useOperationLimits(limits: OperationLimits): Plugin {
  return composePlugins([
    useDocumentSizeLimit(limits.maxDocumentBytes),
    maxTokensPlugin({ n: limits.maxTokens }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true }),
    maxAliasesPlugin({ n: limits.maxAliases }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true }),
  ] as Plugin[]);
}
