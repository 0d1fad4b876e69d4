import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * No import cycles, type-only imports included. dependency-cruiser (.dependency-cruiser.cjs) reads the
 * import graph and checks modules and nested folders; its folder check counts a folder as containing
 * everything below it, so a file at the root of src/ and a folder beside it (config.ts and cache/) are
 * checked here, as rooms: each folder of src/, each file at its root, and each other top-level folder.
 */

const ROOT = join(__dirname, '..');
const CRUISED = ['src', 'resolvers', 'test', 'bench', 'scripts'];

interface CruisedModule {
  source: string;
  coreModule?: boolean;
  dependencies: Array<{ resolved: string; coreModule: boolean; couldNotResolve: boolean; dependencyTypes: string[] }>;
}

interface CruiseResult {
  modules: CruisedModule[];
  summary: { violations: Array<{ rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }> };
}

function cruise(): CruiseResult {
  const cli = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
  const output = execFileSync(process.execPath, [cli, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...CRUISED], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output) as CruiseResult;
}

/** `src/cache/ttl.ts` → `src/cache/`, `src/config.ts` → itself, `test/helpers/stack.ts` → `test/`. */
function roomOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}/` : path;
  return `${parts[0]}/`;
}

/** Dependencies between rooms, each with the imports behind it. */
function roomGraph(modules: readonly CruisedModule[]): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const module of modules) {
    if (module.coreModule || module.source.startsWith('node_modules/')) continue;
    const from = roomOf(module.source);
    for (const dependency of module.dependencies) {
      if (dependency.coreModule || dependency.couldNotResolve || dependency.resolved.startsWith('node_modules/')) continue;
      const to = roomOf(dependency.resolved);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      const imports = graph.get(from)!.get(to) ?? [];
      imports.push(`${module.source} → ${dependency.resolved}${dependency.dependencyTypes.includes('type-only') ? ' (type)' : ''}`);
      graph.get(from)!.set(to, imports);
    }
  }
  return graph;
}

/** Rooms that depend on each other, with the imports that tie them (Tarjan's strongly connected components). */
function roomCycles(modules: readonly CruisedModule[]): string[] {
  const graph = roomGraph(modules);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (room: string) => {
    index.set(room, index.size);
    low.set(room, index.get(room)!);
    stack.push(room);
    for (const next of graph.get(room)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(room, Math.min(low.get(room)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(room, Math.min(low.get(room)!, index.get(next)!));
      }
    }
    if (low.get(room) !== index.get(room)) return;
    const component = stack.splice(stack.indexOf(room));
    if (component.length < 2) return;
    const ties = component.flatMap((from) =>
      [...(graph.get(from) ?? [])].filter(([to]) => component.includes(to)).flatMap(([, imports]) => imports),
    );
    cycles.push(`${component.join(' ⇄ ')}:\n    ${ties.join('\n    ')}`);
  };
  for (const room of graph.keys()) if (!index.has(room)) visit(room);
  return cycles;
}

describe('import cycles', () => {
  let result: CruiseResult;
  beforeAll(() => {
    result = cruise();
  });

  it('reads the whole tree, type-only imports included', () => {
    const server = result.modules.find((module) => module.source === 'src/server.ts');
    expect(server?.dependencies.map((dependency) => dependency.resolved)).toContain('src/pipeline.ts');
    const typeOnly = result.modules.flatMap((module) => module.dependencies).filter((dependency) => dependency.dependencyTypes.includes('type-only'));
    expect(typeOnly.length).toBeGreaterThan(0);
  });

  it('has none between modules or nested folders (dependency-cruiser)', () => {
    const violations = result.summary.violations.map(
      ({ rule, from, to, cycle }) => `${rule.name}: ${from} → ${to}${cycle ? ` (${cycle.map((step) => step.name).join(' → ')})` : ''}`,
    );
    expect(violations).toEqual([]);
  });

  it('has none between the folders and root files of src/ and the other top-level folders', () => {
    expect(roomCycles(result.modules)).toEqual([]);
  });

  it('would name a cycle through a type-only import between a root file and a folder', () => {
    const dependency = (resolved: string, types = ['local', 'import']) => ({ resolved, coreModule: false, couldNotResolve: false, dependencyTypes: types });
    const cycles = roomCycles([
      { source: 'src/config.ts', dependencies: [dependency('src/cache/ttl.ts')] },
      { source: 'src/cache/ttl.ts', dependencies: [] },
      { source: 'src/cache/plugin.ts', dependencies: [dependency('src/config.ts', ['local', 'type-only', 'import'])] },
    ]);
    expect(cycles).toEqual([expect.stringContaining('src/cache/plugin.ts → src/config.ts (type)')]);
  });
});
