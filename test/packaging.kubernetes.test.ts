import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { loadGatewayConfig } from '../src/config';
import { documentedVariables } from './helpers/readme';

const ROOT = join(__dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const KUSTOMIZATION = 'kustomization.yaml';
const SECRET_TEMPLATE = 'secret.template.yaml';

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: any;
}

function readManifests(): Manifest[] {
  return readdirSync(DEPLOY)
    .filter((file) => file.endsWith('.yaml') && file !== KUSTOMIZATION)
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8')).map((document) => {
        if (document.errors.length) throw new Error(`${file}: ${document.errors.map(String).join('; ')}`);
        return { ...(document.toJS() as Omit<Manifest, 'file'>), file } as Manifest;
      }),
    );
}

/** kubernetes-models publishes one module per API group version: `kubernetes-models/apps/v1` exports `Deployment`. */
const modelModule = (manifest: Manifest) => `kubernetes-models/${manifest.apiVersion}`;

/**
 * kubernetes-models' validators, like the API server without strict field validation, ignore unknown
 * fields. Its TypeScript interfaces do not: each manifest, as an object literal typed with its kind's
 * interface, fails to compile on a misspelt or misplaced field.
 */
function unknownFieldErrors(manifests: Manifest[]): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: [],
  };
  const sources = new Map(
    manifests.map(({ file, ...manifest }, index) => [
      join(ROOT, `manifest-${index}-${file}.ts`),
      `import type { I${manifest.kind} } from '${modelModule({ file, ...manifest })}';\n` +
        `export const manifest: I${manifest.kind} = ${JSON.stringify(manifest, null, 2)};\n`,
    ]),
  );
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => sources.has(path) || fileExists(path);
  host.readFile = (path) => sources.get(path) ?? readFile(path);
  host.getSourceFile = (path, language, ...rest) => {
    const source = sources.get(path);
    return source !== undefined ? ts.createSourceFile(path, source, language) : getSourceFile(path, language, ...rest);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName.slice(ROOT.length + 1)}: ` : '';
    return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  });
}

describe('deploy/ Kubernetes manifests', () => {
  const manifests = readManifests();
  const ofKind = (kind: string) => {
    const found = manifests.filter((manifest) => manifest.kind === kind);
    expect(found).toHaveLength(1);
    return found[0];
  };

  it('has a Deployment, Service, HPA, ConfigMap, credentials Secret template and PodDisruptionBudget', () => {
    expect(manifests.map((manifest) => `${manifest.apiVersion} ${manifest.kind}`).sort()).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
    ]);
  });

  it('validate against the Kubernetes API schemas (kubernetes-models)', async () => {
    for (const { file, ...manifest } of manifests) {
      const models = (await import(modelModule({ file, ...manifest }))) as Record<string, new (data: object) => { validate(): void }>;
      expect({ file, error: errorOf(() => new models[manifest.kind](manifest).validate()) }).toEqual({ file, error: undefined });
    }
  });

  it('use no field the Kubernetes API does not define', () => {
    expect(unknownFieldErrors(manifests)).toEqual([]);
  });

  it('are all listed in kustomization.yaml, except the Secret template', () => {
    const kustomization = parseAllDocuments(readFileSync(join(DEPLOY, KUSTOMIZATION), 'utf8'))[0].toJS();
    const deployable = [...new Set(manifests.map((manifest) => manifest.file))].filter((file) => file !== SECRET_TEMPLATE);
    expect([...kustomization.resources].sort()).toEqual(deployable.sort());
  });

  it('probe /healthz for start-up and liveness and /readyz for readiness, on the port the gateway listens on', () => {
    const [container] = ofKind('Deployment').spec.template.spec.containers;
    const port = container.ports.find((candidate: { name: string }) => candidate.name === 'http').containerPort;
    expect(String(port)).toBe(ofKind('ConfigMap').data.PORT);
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('run the gateway as non-root on a read-only root filesystem, with resource requests and its env from the ConfigMap and Secret', () => {
    const pod = ofKind('Deployment').spec.template.spec;
    const [container] = pod.containers;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
    expect(container.envFrom).toEqual([
      { configMapRef: { name: ofKind('ConfigMap').metadata.name } },
      { secretRef: { name: ofKind('Secret').metadata.name } },
    ]);
  });

  it("point the Service, HPA and PodDisruptionBudget at the Deployment's pods", () => {
    const deployment = ofKind('Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    expect(podLabels).toMatchObject(ofKind('Service').spec.selector);
    expect(podLabels).toMatchObject(ofKind('PodDisruptionBudget').spec.selector.matchLabels);
    expect(ofKind('Service').spec.ports[0].targetPort).toBe('http');
    expect(ofKind('HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: deployment.kind,
      name: deployment.metadata.name,
    });
    expect(ofKind('HorizontalPodAutoscaler').spec.minReplicas).toBeGreaterThan(ofKind('PodDisruptionBudget').spec.minAvailable);
  });

  it('configure only documented variables, hold placeholders for every secret, and together start the gateway out of sandbox mode', () => {
    const documented = documentedVariables();
    const configMap: Record<string, string> = ofKind('ConfigMap').data;
    const secret: Record<string, string> = ofKind('Secret').stringData;
    expect([...Object.keys(configMap), ...Object.keys(secret)].filter((name) => !documented.has(name))).toEqual([]);
    expect(Object.entries(secret).filter(([, value]) => !/<[^>]+>/.test(value))).toEqual([]);
    expect(Object.keys(secret)).toEqual(expect.arrayContaining(['IOMETER_TOKEN', 'IOMETER_SECRET']));

    const config = loadGatewayConfig({ ...configMap, ...secret });
    expect(config.upstream).toMatchObject({ endpoint: configMap.IOMETER_ENDPOINT, token: secret.IOMETER_TOKEN });
    expect(config.database.url).toBe(secret.DATABASE_URL);
    expect(config.redis.url).toBe(secret.REDIS_URL);
  });
});

function errorOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
