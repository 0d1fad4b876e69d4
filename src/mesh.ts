import { getMesh, type MeshInstance } from '@graphql-mesh/runtime';
import type { MeshHandler, MeshSource } from '@graphql-mesh/types';
import type { Executor } from '@graphql-tools/utils';
import { Kind, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { getMeshOptions } from '../.mesh';
import { composePlugins } from './plugins/compose';

export interface GatewayMesh {
  mesh: MeshInstance;
  /** Mesh's envelop plugins for yoga, as one, without its engine plugin (see below). */
  plugin: Plugin;
  /** `Type.field` of every field the gateway itself defines (additional-typedefs/), all others are IOmeter's. */
  gatewayFields: ReadonlySet<string>;
  dispose(): Promise<void>;
}

/**
 * Mesh's first plugin is an engine (parse/validate/execute) that also re-adds graphql-js's specified
 * validation rules. Yoga installs the same engine (normalizedExecutor and the same rules), so keeping
 * Mesh's would validate every document twice and report every validation error twice.
 */
function isEnginePlugin(plugin: object): boolean {
  return ['onParse', 'onValidate', 'onExecute', 'onSubscribe'].every((hook) => hook in plugin);
}

export const IOMETER_SOURCE = 'Iometer';

/** `Type.field` of every object field the documents define or extend. */
function fieldsDefinedIn(documents: ReadonlyArray<DocumentNode>): Set<string> {
  const fields = new Set<string>();
  for (const definition of documents.flatMap((document) => document.definitions)) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of definition.fields ?? []) fields.add(`${definition.name.value}.${field.name.value}`);
  }
  return fields;
}

/**
 * Builds a fresh mesh from the .mesh artifact for one gateway instance. The declarative wiring
 * (SDL source, renames, additional typedefs and resolvers) comes from .meshrc.yaml; the IOmeter
 * transport is swapped for `iometer` (src/upstream/), so endpoint, credentials, timeouts and upstream
 * protection come from the validated config instead of process-wide environment placeholders.
 */
export async function createGatewayMesh(iometer: Executor): Promise<GatewayMesh> {
  const options = await getMeshOptions();
  const source = options.sources.find((candidate) => candidate.name === IOMETER_SOURCE);
  if (!source) throw new Error(`.meshrc.yaml has no source named ${IOMETER_SOURCE}`);
  const declared = source.handler;
  const handler: MeshHandler = {
    getMeshSource: async (payload) => ({ ...(await declared.getMeshSource(payload)), executor: iometer as MeshSource['executor'] }),
  };
  source.handler = handler;
  const mesh = await getMesh(options);
  return {
    mesh,
    gatewayFields: fieldsDefinedIn((options.additionalTypeDefs ?? []) as DocumentNode[]),
    plugin: composePlugins(mesh.plugins.filter((plugin) => !isEnginePlugin(plugin))),
    dispose: async () => {
      mesh.destroy();
    },
  };
}
