import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Identity } from '../identity';
import type { CacheEntity } from './store';

/*
 * What the response cache plugin cannot see on its own. It tags a response with the entities in it
 * (`Customer:<id>`, `IometerInstallation:<id>`; it selects `id` itself when the client did not) and
 * a mutation invalidates the entities in its result. That misses:
 *
 * - lookups that found nothing: `customer(externalId: "C-2004")` answered null must be refetched once
 *   that customer is created, and `provider { installation(externalId:) }` once it is onboarded;
 * - mutations whose result names no entity: `updateLicense` returns an IometerLicense, which has no id,
 *   `onboardCustomer`/`registerMyMeter`/`createRegistrationToken` return a registration token;
 * - lists that gain a member (`customers` after upsertCustomer creates one).
 *
 * So queries get lookup tags from their document (`@externalId:<id>` per externalId looked up, `@list:
 * Query.customers` for the customer list), and the gateway's mutations invalidate those, plus the
 * entities they affect. `@` cannot occur in a GraphQL type name, so these never collide with entities.
 */

export const EXTERNAL_ID_TAG = '@externalId';
export const LIST_TAG = '@list';
export const CONSUMPTION_TAG = '@consumption';

const externalIdTag = (externalId: string): CacheEntity => ({ typename: EXTERNAL_ID_TAG, id: externalId.trim() });
/**
 * On every response showing consumption priced by a customer's contracts, wherever it was reached
 * from (Customer.consumption, IometerInstallation.consumption): a contract change invalidates it.
 */
export const consumptionTag = (externalId: string): CacheEntity => ({ typename: CONSUMPTION_TAG, id: externalId.trim() });
/** IOmeter returns ids in lower case; a client may send a Uuid in either. */
const installation = (id: string): CacheEntity => ({ typename: 'IometerInstallation', id: id.toLowerCase() });
const CUSTOMER_LIST: CacheEntity = { typename: LIST_TAG, id: 'Query.customers' };

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/** The fields of a selection set, with fragment spreads and inline fragments flattened. */
function fieldsOf(selectionSet: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): FieldNode[] {
  if (!selectionSet) return [];
  return selectionSet.selections.flatMap((selection): FieldNode[] => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsOf(selection.selectionSet, fragments, seen);
    const name = selection.name.value;
    if (seen.has(name)) return [];
    seen.add(name);
    return fieldsOf(fragments.get(name)?.selectionSet, fragments, seen);
  });
}

function valueOf(node: ValueNode | undefined, variables: Variables): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, valueOf(field.value, variables)]));
    default:
      return undefined;
  }
}

function argument(field: FieldNode, name: string, variables: Variables): unknown {
  return valueOf(field.arguments?.find((arg) => arg.name.value === name)?.value, variables);
}

function stringArgument(field: FieldNode, name: string, variables: Variables): string | undefined {
  const value = argument(field, name, variables);
  return typeof value === 'string' ? value : undefined;
}

interface Analysis {
  fields: FieldNode[];
  fragments: Map<string, FragmentDefinitionNode>;
}

function rootFields(document: DocumentNode, operation: OperationDefinitionNode): Analysis {
  const fragments = new Map(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  return { fields: fieldsOf(operation.selectionSet, fragments), fragments };
}

/** Lookup tags of a query: which externalIds it looked up and which lists it read. */
export function queryLookupTags(document: DocumentNode, operation: OperationDefinitionNode, variables: Variables, identity: Identity | undefined): CacheEntity[] {
  const { fields, fragments } = rootFields(document, operation);
  const tags: CacheEntity[] = [];
  for (const field of fields) {
    switch (field.name.value) {
      case 'customer': {
        const externalId = stringArgument(field, 'externalId', variables);
        if (externalId) tags.push(externalIdTag(externalId));
        break;
      }
      case 'customers':
        tags.push(CUSTOMER_LIST);
        break;
      case 'me':
        if (identity?.role === 'customer') tags.push(externalIdTag(identity.externalId));
        break;
      case 'provider':
        for (const providerField of fieldsOf(field.selectionSet, fragments)) {
          if (providerField.name.value !== 'installation') continue;
          const externalId = stringArgument(providerField, 'externalId', variables);
          if (externalId) tags.push(externalIdTag(externalId));
        }
        break;
    }
  }
  return tags;
}

/** What a gateway mutation changes beyond the entities in its own result. */
export interface MutationEffects {
  /** Tags and entities to invalidate. */
  entities: CacheEntity[];
  /** Customers (by externalId) whose `Customer:<id>` must be invalidated; the id is looked up. */
  customerExternalIds: string[];
}

/**
 * What changing customers' contracts invalidates beyond a mutation's result: every response holding
 * the customer, lookups of it, and every response showing its priced consumption.
 */
export function customerChangeEffects(externalIds: Iterable<string>): MutationEffects {
  const effects: MutationEffects = { entities: [], customerExternalIds: [] };
  for (const externalId of externalIds) {
    effects.entities.push(externalIdTag(externalId), consumptionTag(externalId));
    effects.customerExternalIds.push(externalId.trim());
  }
  return effects;
}

/**
 * What writes made outside the graph (the import command) invalidate: each changed record, and for
 * each customer touched the responses holding it, its lookups, its priced consumption and the lists.
 */
export function changedRecordTags(records: ReadonlyArray<{ typename: string; id: string; customerExternalId?: string }>): CacheEntity[] {
  const customers = new Set(records.flatMap((record) => (record.customerExternalId ? [record.customerExternalId] : [])));
  return [
    ...records.map(({ typename, id }) => ({ typename, id })),
    ...customerChangeEffects(customers).entities,
    ...(customers.size > 0 ? [CUSTOMER_LIST] : []),
  ];
}

export function mutationEffects(document: DocumentNode, operation: OperationDefinitionNode, variables: Variables, identity: Identity | undefined): MutationEffects {
  const effects: MutationEffects = { entities: [], customerExternalIds: [] };
  const onboarded = (externalId: string | undefined) => {
    if (!externalId) return;
    // The lookups by externalId, and every response holding that customer (e.g. `customers { installation }`).
    effects.entities.push(externalIdTag(externalId));
    effects.customerExternalIds.push(externalId.trim());
  };
  for (const field of rootFields(document, operation).fields) {
    switch (field.name.value) {
      case 'upsertCustomer': {
        // Customer:<id> is invalidated from the result; a new customer also ends null lookups and changes lists.
        const input = argument(field, 'input', variables) as { externalId?: unknown } | undefined;
        if (typeof input?.externalId === 'string') effects.entities.push(externalIdTag(input.externalId));
        effects.entities.push(CUSTOMER_LIST);
        break;
      }
      case 'onboardCustomer':
        onboarded(stringArgument(field, 'externalId', variables));
        break;
      case 'registerMyMeter':
        if (identity?.role === 'customer') onboarded(identity.externalId);
        break;
      case 'createRegistrationToken': {
        onboarded(stringArgument(field, 'externalId', variables));
        const installationId = stringArgument(field, 'installationId', variables);
        if (installationId) effects.entities.push(installation(installationId));
        break;
      }
      case 'updateLicense': {
        // IometerLicense has no id; every cached license sits under its installation, tagged with its id.
        const installationId = stringArgument(field, 'installationId', variables);
        if (installationId) effects.entities.push(installation(installationId));
        break;
      }
    }
  }
  return effects;
}
