import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLObjectType, type SelectionSetNode } from 'graphql';
import type { Path } from 'graphql/jsutils/Path';

/**
 * What compiled shapers share (src/queryPlans/resultShaper.ts, src/queryPlans/stitchedFields.ts): the
 * per-request state of one shaping, the signals that stop it and the field collection both compile from.
 */

/** Thrown while compiling: the operation uses something a shaper does not handle, so it is always executed. */
export class Unsupported extends Error {}

/** Thrown while shaping: this answer is not shaped here (a value execute would change or report), so the operation is executed. */
export const NOT_SHAPED: unique symbol = Symbol('not shaped');

/** One shaping of one answer: what the gateway's resolvers are called with, and the work still under way. */
export interface Run {
  context: unknown;
  variables: Record<string, unknown>;
  rootValue: unknown;
  /** Resolver results not in yet; each one settles into the result where it belongs, and may add more. */
  pending: Array<Promise<void>>;
  /** A pending resolver failed or returned what execute would report: the shaped result is dropped. */
  failed: boolean;
}

/** Runs `then` on a value that may be a promise; a failure (a rejection or a throw in `then`) marks the run failed. */
export function whenSettled(run: Run, value: unknown, then: (settled: unknown) => void): void {
  if (!(value instanceof Promise)) {
    then(value);
    return;
  }
  run.pending.push(
    value.then(then).catch(() => {
      run.failed = true;
    }),
  );
}

/** Waits for every pending resolver, those the settled ones started included; whether all succeeded. */
export async function settled(run: Run): Promise<boolean> {
  while (run.pending.length > 0 && !run.failed) await Promise.all(run.pending.splice(0));
  return !run.failed;
}

export const pathUnder = (prev: Path | undefined, key: string | number, typename: string | undefined): Path => ({ prev, key, typename });

/** The response keys of one selection set on one object type, in the order `execute` collects them. */
export function collectFields(
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  fields = new Map<string, FieldNode[]>(),
  spread = new Set<string>(),
): Map<string, FieldNode[]> {
  for (const selection of selectionSet.selections) {
    // @include/@skip depend on the variables of each request; a compiled shaper knows none of them.
    if (selection.directives?.length) throw new Unsupported();
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const nodes = fields.get(key);
      if (nodes) nodes.push(selection);
      else fields.set(key, [selection]);
      continue;
    }
    // Only fragments on this very type: one on an interface or union needs the answer's type to apply.
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selection.typeCondition && selection.typeCondition.name.value !== type.name) throw new Unsupported();
      collectFields(type, selection.selectionSet, fragments, fields, spread);
      continue;
    }
    const name = selection.name.value;
    if (spread.has(name)) continue;
    spread.add(name);
    const fragment = fragments.get(name);
    if (!fragment || fragment.typeCondition.name.value !== type.name) throw new Unsupported();
    collectFields(type, fragment.selectionSet, fragments, fields, spread);
  }
  return fields;
}

/** The merged selection set of one response key's field nodes. */
export const mergedSelections = (nodes: readonly FieldNode[]): SelectionSetNode => ({
  kind: Kind.SELECTION_SET,
  selections: nodes.flatMap((node) => node.selectionSet?.selections ?? []),
});
