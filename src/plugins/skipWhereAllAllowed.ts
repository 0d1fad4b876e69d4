import type { Identity, Role } from '../identity';

type Hook = (payload: { args: { contextValue: unknown } }) => unknown;
interface ExecutionHooks {
  onExecute?: Hook;
  onSubscribe?: Hook;
}
interface PluginInit {
  addPlugin(plugin: object): void;
}

/**
 * Field authorization walks the whole operation before every execution. For a role that may select
 * every field (useAuthorization.ts: staff), that walk cannot find anything to refuse, so it is skipped for
 * callers with that role; everyone else is checked as before. `authorize` is generic-auth's plugin,
 * whose walk lives in the plugin it adds at start-up (extended validation): that one is wrapped.
 */
export function skipWhereAllAllowed<P extends { onPluginInit?: (init: any) => unknown }>(authorize: P, unrestricted: ReadonlySet<Role>): P {
  const restricted = (contextValue: unknown) => {
    const role = (contextValue as { identity?: Identity } | null)?.identity?.role;
    return role === undefined || !unrestricted.has(role);
  };
  const guard = (hook: Hook | undefined): Hook | undefined =>
    hook && ((payload) => (restricted(payload.args.contextValue) ? hook(payload) : undefined));
  return {
    ...authorize,
    onPluginInit(init: PluginInit) {
      return authorize.onPluginInit?.({
        ...init,
        addPlugin: (added: ExecutionHooks) => init.addPlugin({ ...added, onExecute: guard(added.onExecute), onSubscribe: guard(added.onSubscribe) }),
      });
    },
  };
}
