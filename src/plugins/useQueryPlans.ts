import type { Executor } from '@graphql-tools/utils';
import type { MeshInstance } from '@graphql-mesh/runtime';
import type { Plugin } from 'graphql-yoga';
import { createDirectExecution } from '../queryPlans/directExecution';
import { iometerSource } from '../queryPlans/iometerSource';
import { planDirect, type DirectPlan } from '../queryPlans/operationPlan';
import { PlanCache } from '../queryPlans/planCache';

export interface QueryPlanOptions {
  mesh: MeshInstance;
  /** The Mesh source whose operations may go straight through. */
  sourceName: string;
  /** That source's transport: credentials, concurrency gate, circuit breaker, retries, in-flight dedup. */
  upstream: Executor;
  /** Operation plans kept (QUERY_PLAN_CACHE_SIZE); 0 delegates every operation. */
  maxPlans: number;
}

/**
 * The operation plan cache (issue 12). A query that only touches IOmeter, or IOmeter and the gateway
 * fields stitched onto it that the gateway resolves from its own stores (an installation's `customer`),
 * is planned once: the client's operation in IOmeter's names (src/queryPlans/operationPlan.ts). Each
 * time it runs, that document goes to IOmeter with the client's variables, and a shaper compiled with
 * the plan turns the answer into the result, resolving only the stitched fields
 * (src/queryPlans/resultShaper.ts); an answer it does not shape (errors) is shaped by executing the
 * client's operation over it (src/queryPlans/directExecution.ts). Either way Mesh's per-field
 * delegation is skipped: no request building, document transforms or result proxies per request.
 * Every other operation executes as before.
 *
 * It only replaces the execute function, so everything around execution stays as it is: authentication,
 * authorization and limits before it; rate limits and the response cache around it (this plugin sits
 * before the cache, so the cache wraps it and sees the same results); error masking after it.
 */
export function useQueryPlans({ mesh, sourceName, upstream, maxPlans }: QueryPlanOptions): Plugin {
  if (maxPlans === 0) return {};
  const source = iometerSource(mesh, sourceName);
  const plans = new PlanCache<DirectPlan>(maxPlans, (document, operationName) => planDirect(source, mesh.schema, document, operationName));
  const executeDirect = createDirectExecution(mesh.schema, source, upstream);
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(async (args) => {
        const plan = plans.get(args.document, args.operationName);
        return (plan && (await executeDirect(args, plan))) ?? executeFn(args);
      });
    },
  };
}
