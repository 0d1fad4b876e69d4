import {
  getOperationAST,
  isAbstractType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  BREAK,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { IometerSource } from './iometerSource';

/** An operation that only IOmeter can answer: what to send it, in IOmeter's names. */
export interface DirectPlan {
  /** The client's operation and the fragments it uses, `__typename` added where IOmeter returns an abstract type. */
  upstream: DocumentNode;
  /** Whether the answer holds `__typename`s to map to the gateway's names (else it is passed on as it is). */
  selectsTypenames: boolean;
}

/** Directives IOmeter evaluates exactly as the gateway would; any other keeps the operation delegated. */
const FORWARDED_DIRECTIVES = new Set(['include', 'skip']);

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/** The fragments an operation spreads, transitively; undefined if one is missing. */
function usedFragments(document: DocumentNode, root: DocumentNode['definitions'][number]): FragmentDefinitionNode[] | undefined {
  const byName = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) byName.set(definition.name.value, definition);
  const used = new Map<string, FragmentDefinitionNode>();
  const pending = [root];
  let missing = false;
  while (pending.length > 0 && !missing) {
    visit(pending.pop()!, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return undefined;
        const fragment = byName.get(name);
        if (!fragment) {
          missing = true;
          return BREAK;
        }
        used.set(name, fragment);
        pending.push(fragment);
        return undefined;
      },
    });
  }
  return missing ? undefined : [...used.values()];
}

/**
 * A query whose every field, fragment type and variable type belongs to IOmeter (no gateway-added
 * field such as `customer` or `consumption`, no introspection, no directive but @include/@skip) goes
 * to IOmeter as it is: the plan is the client's own operation in IOmeter's names. Anything else
 * returns undefined and is delegated field by field as before. Mutations stay delegated too: they are
 * rare, and each of their fields is sent on its own, as clients have been promised.
 */
export function planDirect(source: IometerSource, document: DocumentNode, operationName: string | null | undefined): DirectPlan | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'query') return undefined;
  const fragments = usedFragments(document, operation);
  if (!fragments) return undefined;
  const { schema } = source;

  const typeInfo = new TypeInfo(schema);
  let direct = true;
  let selectsTypenames = false;
  const refuse = () => {
    direct = false;
    return BREAK;
  };
  const addTypename = (node: SelectionSetNode) => {
    const parent = typeInfo.getParentType();
    const named = node.selections.some((selection) => selection.kind === Kind.FIELD && !selection.alias && selection.name.value === '__typename');
    if (!parent || !isAbstractType(parent) || named) return undefined;
    selectsTypenames = true;
    return { ...node, selections: [...node.selections, TYPENAME] };
  };
  const check = {
    Field(node: FieldNode) {
      if (node.name.value === '__typename') {
        selectsTypenames = true;
        return undefined;
      }
      if (node.name.value.startsWith('__') || !typeInfo.getFieldDef()) return refuse();
      return undefined;
    },
    NamedType(node: { name: { value: string } }) {
      if (!schema.getType(node.name.value)) return refuse();
      return undefined;
    },
    Directive(node: { name: { value: string } }) {
      if (!FORWARDED_DIRECTIVES.has(node.name.value)) return refuse();
      return undefined;
    },
    SelectionSet: { leave: addTypename },
  };
  const definitions = [operation, ...fragments].map((definition) => {
    if (!direct) return definition;
    return visit(definition, visitWithTypeInfo(typeInfo, check));
  });
  if (!direct) return undefined;
  const request = source.toUpstream({ document: { kind: Kind.DOCUMENT, definitions }, variables: {} });
  return { upstream: request.document, selectsTypenames };
}
