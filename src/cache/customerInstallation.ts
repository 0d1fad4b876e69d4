import {
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import type { CacheEntity } from './store';

/*
 * Workaround for a stitching limitation, kept inside the cache module.
 *
 * To tag a response with its entities the response cache plugin adds `__responseCacheId: id` to every
 * selection set whose type has an `id`. Below `Customer.installation` that alias fails: the installation
 * loader (src/installations/byExternalIdLoader.ts) hands back the plain objects of its batched
 * `provider { i0: installation(…) … }` result, and a plain object resolves a field by its name, not
 * its alias, so an aliased field there is null (`{ customer(…) { installation { myId: id } } }` fails
 * the same way without the cache). Until the loader returns external objects, the gateway removes the
 * plugin's id aliases from those subtrees (also from fragments used there), and tags every response
 * that selects `Customer.installation` with CUSTOMER_INSTALLATIONS, which `updateLicense` invalidates.
 */

export const CUSTOMER_INSTALLATIONS: CacheEntity = { typename: '@field', id: 'Customer.installation' };

const ID_ALIAS = '__responseCacheId';

const isCustomerInstallation = (typeInfo: TypeInfo, node: FieldNode) =>
  node.name.value === 'installation' && typeInfo.getParentType()?.name === 'Customer';

interface Analysis {
  /** The document selects Customer.installation somewhere (operation or fragment). */
  selects: boolean;
  /** Fragments used (directly or transitively) below a Customer.installation field. */
  fragmentsBelow: Set<string>;
}

const analyses = new WeakMap<DocumentNode, Analysis>();

function analyse(document: DocumentNode, schema: GraphQLSchema): Analysis {
  const cached = analyses.get(document);
  if (cached) return cached;
  const typeInfo = new TypeInfo(schema);
  const spreadsIn = new Map<string, Set<string>>();
  const fragmentsBelow = new Set<string>();
  let selects = false;
  let definition = '';
  let depth = 0;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition: { enter: () => void (definition = '') },
      FragmentDefinition: { enter: (node) => void (definition = node.name.value) },
      Field: {
        enter(node) {
          if (isCustomerInstallation(typeInfo, node)) {
            selects = true;
            depth += 1;
          }
        },
        leave(node) {
          if (isCustomerInstallation(typeInfo, node)) depth -= 1;
        },
      },
      FragmentSpread(node) {
        if (depth > 0) fragmentsBelow.add(node.name.value);
        const spreads = spreadsIn.get(definition) ?? new Set<string>();
        spreads.add(node.name.value);
        spreadsIn.set(definition, spreads);
      },
    }),
  );
  // Whatever a fragment below the field spreads is below it too.
  const pending = [...fragmentsBelow];
  while (pending.length > 0) {
    for (const spread of spreadsIn.get(pending.pop()!) ?? []) {
      if (!fragmentsBelow.has(spread)) {
        fragmentsBelow.add(spread);
        pending.push(spread);
      }
    }
  }
  const analysis = { selects, fragmentsBelow };
  analyses.set(document, analysis);
  return analysis;
}

export function selectsCustomerInstallation(document: DocumentNode, schema: GraphQLSchema): boolean {
  return analyse(document, schema).selects;
}

const rewritten = new WeakMap<DocumentNode, DocumentNode>();

/** The document without the plugin's id aliases below Customer.installation (the same object when there are none). */
export function withoutIdAliasesBelowCustomerInstallation(document: DocumentNode, schema: GraphQLSchema): DocumentNode {
  const cached = rewritten.get(document);
  if (cached) return cached;
  const { selects, fragmentsBelow } = analyse(document, schema);
  let result = document;
  if (selects) {
    const typeInfo = new TypeInfo(schema);
    let below = false;
    let depth = 0;
    result = visit(
      document,
      visitWithTypeInfo(typeInfo, {
        OperationDefinition: { enter: () => void (below = false) },
        FragmentDefinition: { enter: (node) => void (below = fragmentsBelow.has(node.name.value)) },
        Field: {
          enter(node) {
            if ((below || depth > 0) && node.kind === Kind.FIELD && node.alias?.value === ID_ALIAS) return null;
            if (isCustomerInstallation(typeInfo, node)) depth += 1;
            return undefined;
          },
          leave(node) {
            if (isCustomerInstallation(typeInfo, node)) depth -= 1;
          },
        },
      }),
    );
  }
  rewritten.set(document, result);
  return result;
}
