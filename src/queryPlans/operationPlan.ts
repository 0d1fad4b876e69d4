import {
  getNamedType,
  getOperationAST,
  isAbstractType,
  isCompositeType,
  isLeafType,
  Kind,
  OverlappingFieldsCanBeMergedRule,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  BREAK,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { IometerSource } from './iometerSource';
import { compileResultShaper, type ResultShaper } from './resultShaper';

/** An operation that only IOmeter can answer: what to send it, in IOmeter's names. */
export interface DirectPlan {
  /** The client's operation and the fragments it uses, `__typename` added where IOmeter returns an abstract type. */
  upstream: DocumentNode;
  /** Whether the answer holds `__typename`s to map to the gateway's names (else it is passed on as it is). */
  selectsTypenames: boolean;
  /**
   * An answer's data (`__typename`s mapped) shaped into the result, the gateway's fields resolved, so
   * the client's operation need not be executed over it (src/queryPlans/resultShaper.ts); undefined:
   * it always is executed.
   */
  shape: ResultShaper | undefined;
  /** The operation's variable definitions, which each request's variables are checked against (none: nothing to check). */
  variableDefinitions: readonly VariableDefinitionNode[];
}

/** Directives IOmeter evaluates exactly as the gateway would; any other keeps the operation delegated. */
const FORWARDED_DIRECTIVES = new Set(['include', 'skip']);

/**
 * What a plan may resolve over IOmeter's answer: gateway fields that read only the gateway's own stores.
 * Fields that go back to IOmeter (`Customer.installation`, `consumption`, `forecast`: delegation through
 * `context.loadInstallation`) need the gateway's schema, while a plan executes over a copy of it, so
 * anything not listed keeps the operation delegated: a new gateway field is delegated until listed here.
 * Stitched fields onto IOmeter types, first; their dependencies come from Mesh (IometerSource).
 */
const LOCAL_STITCHED_FIELDS = new Set([
  'IometerInstallation.customer',
  'IometerMeterReadingInstallation.customer',
  'IometerInstallation.consumption',
  'IometerInstallation.readingHistory',
]);
/** Below them, any leaf (scalar or enum) and these fields returning objects, from the same stores. */
const LOCAL_OBJECT_FIELDS = new Set(['Customer.address', 'Customer.contract', 'Contract.tariff', 'ArchivedReadingConnection.pageInfo']);

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
 * Whether the gateway resolves a stitched field's whole selection by itself, from its own stores and
 * without going back to IOmeter: a listed stitched field, below it only leaves and LOCAL_OBJECT_FIELDS,
 * no fragment spread (its fragment would travel upstream), no variable (the upstream operation would
 * declare it unused) and no directive but @include/@skip.
 */
function resolvedLocally(gatewaySchema: GraphQLSchema, parentName: string, field: FieldNode): boolean {
  const parent = gatewaySchema.getType(parentName);
  if (!isCompositeType(parent)) return false;
  const typeInfo = new TypeInfo(gatewaySchema, parent);
  let local = true;
  const refuse = () => {
    local = false;
    return BREAK;
  };
  visit(
    field,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (node.name.value === '__typename') return undefined;
        const definition = typeInfo.getFieldDef();
        const owner = typeInfo.getParentType();
        if (!definition || !owner) return refuse();
        const coordinate = `${owner.name}.${node.name.value}`;
        if (node === field) return LOCAL_STITCHED_FIELDS.has(coordinate) ? undefined : refuse();
        return isLeafType(getNamedType(definition.type)) || LOCAL_OBJECT_FIELDS.has(coordinate) ? undefined : refuse();
      },
      FragmentSpread: refuse,
      Variable: refuse,
      Directive: (node: DirectiveNode) => (FORWARDED_DIRECTIVES.has(node.name.value) ? undefined : refuse()),
    }),
  );
  return local;
}

/**
 * A query whose root fields, fragment types and variable types belong to IOmeter (no introspection,
 * no directive but @include/@skip) is planned once: the client's operation in IOmeter's names goes to
 * IOmeter as it is. Gateway fields stitched onto IOmeter types (`customer` of an installation) may be
 * in it when the gateway resolves them by itself (resolvedLocally): they are left out of the upstream
 * document, which asks for what their resolvers read instead (`externalId`), and are resolved over
 * IOmeter's answer. Anything else returns undefined and is delegated field by field as before.
 * Mutations stay delegated too: they are rare, and each of their fields is sent on its own, as clients
 * have been promised.
 */
export function planDirect(
  source: IometerSource,
  gatewaySchema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): DirectPlan | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'query') return undefined;
  const fragments = usedFragments(document, operation);
  if (!fragments) return undefined;
  const { schema } = source;

  const typeInfo = new TypeInfo(schema);
  let direct = true;
  let selectsTypenames = false;
  // Per selection set being visited: the IOmeter fields its stitched fields need.
  const needed: FieldNode[][] = [];
  const refuse = () => {
    direct = false;
    return BREAK;
  };
  const completeSelectionSet = (node: SelectionSetNode) => {
    const parent = typeInfo.getParentType();
    const selections: SelectionNode[] = [...node.selections];
    const plain = (name: string) => selections.some((selection) => selection.kind === Kind.FIELD && !selection.alias && !selection.arguments?.length && !selection.directives?.length && selection.name.value === name);
    for (const dependency of needed.pop()!) if (!plain(dependency.name.value)) selections.push(dependency);
    if (parent && isAbstractType(parent) && !plain('__typename')) {
      selectsTypenames = true;
      selections.push(TYPENAME);
    }
    return selections.length === node.selections.length ? undefined : { ...node, selections };
  };
  const check = {
    Field(node: FieldNode) {
      if (node.name.value === '__typename') {
        selectsTypenames = true;
        return undefined;
      }
      if (node.name.value.startsWith('__')) return refuse();
      if (typeInfo.getFieldDef()) return undefined;
      const parent = typeInfo.getParentType();
      const dependencies = parent && source.dependenciesOf(parent.name, node.name.value);
      if (!parent || !dependencies || !resolvedLocally(gatewaySchema, parent.name, node)) return refuse();
      needed.at(-1)!.push(...dependencies);
      return null;
    },
    NamedType(node: { name: { value: string } }) {
      if (!schema.getType(node.name.value)) return refuse();
      return undefined;
    },
    Directive(node: { name: { value: string } }) {
      if (!FORWARDED_DIRECTIVES.has(node.name.value)) return refuse();
      return undefined;
    },
    SelectionSet: {
      enter: () => void needed.push([]),
      leave: completeSelectionSet,
    },
  };
  const definitions = [operation, ...fragments].map((definition) => {
    if (!direct) return definition;
    return visit(definition, visitWithTypeInfo(typeInfo, check));
  });
  if (!direct) return undefined;
  const planned: DocumentNode = { kind: Kind.DOCUMENT, definitions };
  // A needed field whose response key the client used for another field cannot be added: delegate.
  if (validate(schema, planned, [OverlappingFieldsCanBeMergedRule]).length > 0) return undefined;
  const request = source.toUpstream({ document: planned, variables: {} });
  return {
    upstream: request.document,
    selectsTypenames,
    shape: compileResultShaper(source, gatewaySchema, operation, fragments),
    variableDefinitions: operation.variableDefinitions ?? [],
  };
}
