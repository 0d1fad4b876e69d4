import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { inlineUpstreamDefers } from '../stitching/inlineUpstreamDefers';
import { composePlugins } from './compose';

/** Whether a document mentions @defer at all: most do not, and skip the rewrite. */
function mentionsDefer(document: DocumentNode): boolean {
  return document.loc?.source.body.includes('@defer') ?? true;
}

/**
 * @defer and @stream (yoga's plugin: the directives, their validation rules; yoga's executor delivers
 * the parts over multipart/mixed or SSE). Fragments of fields IOmeter owns are not deferred but sent
 * inline (inlineUpstreamDefers), never failed. The outcome (most often: the document as it is) is kept
 * per parsed document, which yoga itself caches per query text, so a repeated query costs a WeakMap lookup.
 */
export function useIncrementalDelivery({ gatewayFields }: { gatewayFields: ReadonlySet<string> }): Plugin {
  const rewritten = new WeakMap<DocumentNode, DocumentNode>();
  const inline = ({ args }: { args: { document: DocumentNode; schema: GraphQLSchema } }) => {
    let document = rewritten.get(args.document);
    if (!document) {
      document = mentionsDefer(args.document) ? inlineUpstreamDefers(args.document, args.schema, gatewayFields) : args.document;
      rewritten.set(args.document, document);
    }
    args.document = document;
  };
  return composePlugins([useDeferStream(), { onExecute: inline, onSubscribe: inline }]);
}
