import type { Plugin } from 'graphql-yoga';

/**
 * Several plugins as one, installed in this order where the one stands in the list: envelop's own
 * composition (addPlugin in onPluginInit), the way yoga's response-cache and Prometheus plugins install
 * theirs. For a concern that needs hooks of plugins it builds on.
 */
export function composePlugins(parts: ReadonlyArray<Plugin<any>>): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      for (const part of parts) addPlugin(part);
    },
  };
}
