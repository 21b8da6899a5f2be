import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { parseAllDocuments } from 'yaml';
import { handlers } from '../../examples/new-handlers.js';
import { HEALTHZ_PATH, READYZ_PATH } from '../../src/admin/health-probes.js';
import { METRICS_PATH } from '../../src/admin/metrics-endpoint.js';
import { createSwitchyard } from '../../src/app.js';
import { ENVIRONMENT } from '../../src/cli/environment.js';
import { readServiceOptions } from '../../src/config/env-options.js';
import { compileFlags } from '../../src/config/validate-flags.js';
import { formatConfigIssue } from '../../src/errors/switchyard-error.js';
import { silentLogger } from '../../src/logging/logger.js';

// No cluster here: the manifests are parsed and cross-checked — selectors against labels, probes
// against the endpoints Switchyard really serves, the ConfigMap against the flags validator.
const DIR = 'examples/kubernetes';
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed manifests
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: (Doc & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], file);
    return { ...(d.toJS() as Doc), file };
  }),
);
const only = (kind: string): Doc => {
  const found = docs.filter((d) => d['kind'] === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!;
};
const deployment = only('Deployment');
const pod = deployment['spec']['template'];
const container = pod['spec']['containers'][0];
const podLabels = pod['metadata']['labels'] as Record<string, string>;
const matches = (selector: Record<string, string>): boolean => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
const env = Object.fromEntries((container['env'] as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
const configMap = only('ConfigMap');
const flagsFiles = Object.entries(configMap['data'] as Record<string, string>).map(([key, text]) => ({ file: `${configMap['metadata']['name']}/${key}`, text }));

describe('examples/kubernetes', () => {
  it('has the Deployment, Service, ConfigMap, PodDisruptionBudget and HorizontalPodAutoscaler, all listed in the kustomization', () => {
    for (const kind of ['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) only(kind);
    const kustomization = only('Kustomization');
    assert.deepEqual([...(kustomization['resources'] as string[])].sort(), files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('selectors match the pod labels (Deployment, Service, PodDisruptionBudget)', () => {
    assert.ok(matches(deployment['spec']['selector']['matchLabels']));
    assert.ok(matches(only('Service')['spec']['selector']));
    assert.ok(matches(only('PodDisruptionBudget')['spec']['selector']['matchLabels']));
  });

  it('probes point at the real endpoints on the port Switchyard listens on', async () => {
    const options = readServiceOptions(env);
    const ports = container['ports'] as { name: string; containerPort: number }[];
    const portOf = (ref: string | number): number | undefined => (typeof ref === 'number' ? ref : ports.find((p) => p.name === ref)?.containerPort);
    assert.equal(portOf(container['readinessProbe']['httpGet']['port']), options.port);
    assert.equal(portOf(container['livenessProbe']['httpGet']['port']), options.port);
    assert.equal(container['readinessProbe']['httpGet']['path'], READYZ_PATH);
    assert.equal(container['livenessProbe']['httpGet']['path'], HEALTHZ_PATH);
    assert.equal(portOf(only('Service')['spec']['ports'][0]['targetPort']), options.port);
    assert.equal(pod['metadata']['annotations']['prometheus.io/path'], METRICS_PATH);
    assert.equal(Number(pod['metadata']['annotations']['prometheus.io/port']), options.port);
    assert.equal(options.prometheusMetrics, true, 'the scrape annotation needs the endpoint on');
    // And those paths really answer, without a token, with the ConfigMap's own flags.
    const sy = await createSwitchyard({ flags: flagsFiles, handlers, watch: false, logger: silentLogger, adminToken: 'admin-token-0123456789' });
    try {
      await supertest(sy.handler).get(container['readinessProbe']['httpGet']['path']).expect(200);
      await supertest(sy.handler).get(container['livenessProbe']['httpGet']['path']).expect(200);
    } finally {
      await sy.close();
    }
  });

  it('the ConfigMap holds valid flags, mounted whole (no subPath, so updates reach the pods) where SWITCHYARD_FLAGS_DIR says', () => {
    const result = compileFlags(flagsFiles, { handlerNames: new Set(Object.keys(handlers)) });
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatConfigIssue).join('\n'));
    for (const { file } of flagsFiles) assert.match(file, /\.ya?ml$/, 'only *.yaml/*.yml keys are read');
    const volume = (pod['spec']['volumes'] as Doc[]).find((v) => v['configMap']?.['name'] === configMap['metadata']['name']);
    assert.ok(volume, 'the ConfigMap is a pod volume');
    const mount = (container['volumeMounts'] as Doc[]).find((m) => m['name'] === volume['name']);
    assert.equal(mount?.['mountPath'], readServiceOptions(env).flagsDir);
    assert.equal(mount?.['subPath'], undefined);
  });

  it('environment: only variables Switchyard reads, with valid values; the admin token from a Secret', () => {
    const known = new Set(ENVIRONMENT.flatMap((g) => g.variables.map((v) => v.name)));
    for (const e of container['env'] as { name: string }[]) assert.ok(known.has(e.name), e.name);
    const options = readServiceOptions(env);
    assert.equal(options.logFormat, 'json');
    const secret = (container['env'] as Doc[]).find((e) => e['name'] === 'SWITCHYARD_ADMIN_TOKEN');
    assert.ok(secret?.['valueFrom']?.['secretKeyRef']?.['name'], 'the admin token is never inline');
  });

  it('disruptions and scaling fit together: HPA targets the Deployment on CPU it requests, keeps more pods than the PDB must', () => {
    const hpa = only('HorizontalPodAutoscaler');
    assert.deepEqual(hpa['spec']['scaleTargetRef'], { apiVersion: deployment['apiVersion'], kind: 'Deployment', name: deployment['metadata']['name'] });
    assert.equal(hpa['spec']['metrics'][0]['resource']['name'], 'cpu');
    assert.ok(container['resources']['requests']['cpu'], 'CPU utilisation needs a CPU request');
    const minAvailable = only('PodDisruptionBudget')['spec']['minAvailable'] as number;
    assert.ok(hpa['spec']['minReplicas'] > minAvailable && deployment['spec']['replicas'] > minAvailable, 'a drain can always evict one pod');
    assert.equal(deployment['spec']['strategy']['rollingUpdate']['maxUnavailable'], 0);
    const preStop = Number((container['lifecycle']['preStop']['exec']['command'] as string[])[1]);
    assert.ok(preStop + 15 <= pod['spec']['terminationGracePeriodSeconds'], 'preStop plus the drain fit in the grace period');
  });
});
