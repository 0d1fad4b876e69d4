import { print, type DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * Plans per operation, computed once. yoga hands out the same DocumentNode for the same query text,
 * so the first lookup is by that object; a new object (another spelling of a known operation) is
 * printed, which normalizes whitespace, comments and commas, and looked up by that text and the
 * operation name. Bounded: the least recently used plans go first. Operations without a plan are
 * remembered too (as null), so they are not planned again either.
 */
export class PlanCache<Plan extends object> {
  private readonly byText: LRUCache<string, Plan | typeof NO_PLAN>;
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, Plan | typeof NO_PLAN>>();

  constructor(
    maxPlans: number,
    private readonly build: (document: DocumentNode, operationName: string | null | undefined) => Plan | undefined,
  ) {
    this.byText = new LRUCache({ max: maxPlans });
  }

  get(document: DocumentNode, operationName: string | null | undefined): Plan | undefined {
    const name = operationName ?? '';
    let byName = this.byDocument.get(document);
    let plan = byName?.get(name);
    if (plan === undefined) {
      const text = `${name}\n${print(document)}`;
      plan = this.byText.get(text);
      if (plan === undefined) {
        plan = this.build(document, operationName) ?? NO_PLAN;
        this.byText.set(text, plan);
      }
      if (!byName) this.byDocument.set(document, (byName = new Map()));
      byName.set(name, plan);
    }
    return plan === NO_PLAN ? undefined : plan;
  }
}

const NO_PLAN = Symbol('no plan');
