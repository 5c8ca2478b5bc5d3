// Every Kustomize variant under deploy/kubernetes renders with `kubectl kustomize`, every object it renders is valid
// for its kind (Kubernetes: kubernetes-models; KServe: the openAPIV3Schema of KServe's CRDs), and the pieces agree
// with one another and with the server: the config in the ConfigMap and the container's arguments pass the server's
// own parsers, probes and scrape annotations name the server's routes and port, the shutdown fits the grace period.
import { parseConfig, parseConfigText, parseServeArgs } from '@swapless/server';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  closeSchema,
  type K8sObject,
  kubectl,
  render,
  schemaProblems,
  typeProblems,
  variants,
} from './manifests.js';

const all = variants();
const rendered = new Map<string, K8sObject[]>();
/** Unknown fields per variant: one TypeScript program over every rendered object (one per variant is slow). */
const unknownFields = new Map<string, string[]>();
beforeAll(() => {
  for (const v of all) rendered.set(v, render(v));
  const flat = all.flatMap((v) => objects(v).map((o) => ({ v, o })));
  const problems = typeProblems(flat.map((x) => x.o));
  for (const v of all) unknownFields.set(v, []);
  for (const [i, list] of problems) {
    const { v, o } = flat[i]!;
    unknownFields.get(v)!.push(...list.map((p) => `${o.kind}/${o.metadata.name}: ${p}`));
  }
});
const objects = (v: string): K8sObject[] => rendered.get(v)!;

// biome-ignore lint/suspicious/noExplicitAny: parts of rendered objects
type Any = any;

/** The pod template of a variant's workload: the Deployment's, or the ServingRuntime's with the predictor's. */
function podOf(v: string): { spec: Any; annotations: Record<string, string>; grace: number } {
  const d = objects(v).find((o) => o.kind === 'Deployment');
  if (d) {
    return {
      spec: d.spec.template.spec,
      annotations: d.spec.template.metadata.annotations ?? {},
      grace: d.spec.template.spec.terminationGracePeriodSeconds ?? 30,
    };
  }
  const sr = objects(v).find((o) => o.kind === 'ServingRuntime')!;
  const isvc = objects(v).find((o) => o.kind === 'InferenceService')!;
  return {
    spec: sr.spec,
    annotations: sr.spec.annotations ?? {},
    grace: isvc.spec.predictor.terminationGracePeriodSeconds ?? 30,
  };
}

/** The server's config as the ConfigMap carries it, validated by the server's own parser. */
function serverConfig(v: string) {
  const cm = objects(v).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'swapless-config')!;
  return parseConfig(parseConfigText(cm.data!['server.yaml']!, 'server.yaml'), { source: `${v} ConfigMap` })
    .config;
}

describe('the variants', () => {
  it(`are found and render with ${kubectl()} kustomize`, () => {
    expect(all).toEqual([
      'base',
      'kserve',
      'overlays/device-plugin',
      'overlays/kserve-pcie',
      'overlays/kserve-usb',
      'overlays/pcie',
      'overlays/servicemonitor',
      'overlays/usb',
      'plain',
    ]);
    for (const v of all) expect(objects(v).length, v).toBeGreaterThan(0);
  });

  it('hold what each is for', () => {
    const kinds = (v: string) => objects(v).map((o) => o.kind);
    expect(kinds('base')).toEqual(['ConfigMap']);
    expect(kinds('kserve').sort()).toEqual(['ConfigMap', 'InferenceService', 'ServingRuntime']);
    expect(kinds('plain').sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
    expect(kinds('overlays/servicemonitor').sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Service',
      'ServiceMonitor',
    ]);
    // No Secret is rendered: the admin token is created by the operator, never committed.
    for (const v of all) expect(kinds(v), v).not.toContain('Secret');
  });
});

describe('every rendered object is valid for its kind', () => {
  for (const v of all) {
    it(v, async () => {
      const problems: string[] = [];
      for (const o of objects(v)) {
        for (const p of await schemaProblems(o)) problems.push(`${o.kind}/${o.metadata.name}: ${p}`);
      }
      expect([...problems, ...unknownFields.get(v)!]).toEqual([]);
    });
  }
});

describe('the validators reject what the API server would', () => {
  const clone = <T>(x: T): T => structuredClone(x);

  it('a Deployment with a wrong type, a missing required field, an unknown field', async () => {
    const d = clone(objects('plain').find((o) => o.kind === 'Deployment')!);
    d.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect((await schemaProblems(d)).join('\n')).toMatch(/containerPort must be integer/);
    const noImage = clone(objects('plain').find((o) => o.kind === 'Deployment')!);
    delete noImage.spec.template.spec.containers[0].name;
    expect((await schemaProblems(noImage)).join('\n')).toMatch(/must have required property '?name'?/);
    const typo = clone(objects('plain').find((o) => o.kind === 'Deployment')!);
    typo.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/', port: 8080 } };
    expect([...typeProblems([typo]).values()].flat().join('\n')).toMatch(/readinesProbe/);
  });

  it('a ServingRuntime or InferenceService with an unknown field or a wrong type', async () => {
    const sr = clone(objects('kserve').find((o) => o.kind === 'ServingRuntime')!);
    sr.spec.containers[0].readinesProbe = {};
    expect((await schemaProblems(sr)).join('\n')).toMatch(
      /must NOT have additional properties \(readinesProbe\)/,
    );
    const isvc = clone(objects('kserve').find((o) => o.kind === 'InferenceService')!);
    isvc.spec.predictor.minReplicas = 'one';
    expect((await schemaProblems(isvc)).join('\n')).toMatch(/minReplicas must be integer/);
    // Only the predictor of an InferenceService's spec is kept as test data (fixtures/kserve/SOURCE.txt).
    const withTransformer = clone(objects('kserve').find((o) => o.kind === 'InferenceService')!);
    withTransformer.spec.transformer = { containers: [] };
    expect((await schemaProblems(withTransformer)).join('\n')).toMatch(
      /additional properties \(transformer\)/,
    );
    expect(await schemaProblems({ ...isvc, kind: 'InferenceGraph' })).toEqual([
      'no schema for serving.kserve.io/v1beta1 InferenceGraph',
    ]);
  });

  it('closeSchema leaves open what Kubernetes keeps open', () => {
    expect(
      closeSchema({
        type: 'object',
        properties: {
          a: { type: 'object', properties: { b: { type: 'string' } } },
          c: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: {} },
          d: { type: 'object', additionalProperties: { type: 'string' } },
        },
      }),
    ).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { type: 'object', additionalProperties: false, properties: { b: { type: 'string' } } },
        c: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: {} },
        d: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
  });
});

describe('the pieces agree with the server and with each other', () => {
  const workloads = all.filter((v) => v !== 'base');

  for (const v of workloads) {
    it(`${v}: config, arguments, environment, probes, scraping, drain, security`, () => {
      const config = serverConfig(v);
      const pod = podOf(v);
      const c = pod.spec.containers[0];
      // The arguments parse with the server's own parser (KServe replaces {{.Name}} with the InferenceService's
      // name), and every tenant name is a valid model name once the config is applied.
      const isvc = objects(v).find((o) => o.kind === 'InferenceService');
      const args = (c.args as string[]).map((a) => a.replaceAll('{{.Name}}', isvc?.metadata.name ?? ''));
      const parsed = parseServeArgs(args);
      expect(parsed.configPath).toBe('/etc/swapless/server.yaml');
      const withArgs = parseConfig(
        parseConfigText(objects(v).find((o) => o.kind === 'ConfigMap')!.data!['server.yaml']!, 'server.yaml'),
        {
          layers: [{ label: 'command line', values: parsed.overrides }],
        },
      ).config;
      expect(withArgs.tenants.length).toBeGreaterThan(0);
      if (isvc) expect(withArgs.tenants.map((t) => t.name)).toEqual([isvc.metadata.name]);

      // The config file is where the ConfigMap is mounted.
      const mount = (c.volumeMounts as Any[]).find((m) => m.mountPath === '/etc/swapless');
      const volume = (pod.spec.volumes as Any[]).find((x) => x.name === mount.name);
      expect(volume.configMap.name).toBe('swapless-config');
      // Every mount has its volume; the state and cache directories are writable (the root file system is not).
      for (const m of c.volumeMounts as Any[]) {
        expect(
          (pod.spec.volumes as Any[]).map((x) => x.name),
          m.name,
        ).toContain(m.name);
      }
      const writable = (c.volumeMounts as Any[]).filter((m) => !m.readOnly).map((m) => m.mountPath);
      expect(writable).toEqual(expect.arrayContaining([config.stateDir, '/var/cache/swapless', '/tmp']));

      // The admin token comes from a Secret, as a file the server reads.
      const env = Object.fromEntries((c.env as Any[]).map((e) => [e.name, e.value]));
      const tokenMount = (c.volumeMounts as Any[]).find((m) =>
        env.SWAPLESS_ADMIN_TOKEN_FILE.startsWith(`${m.mountPath}/`),
      );
      const tokenVolume = (pod.spec.volumes as Any[]).find((x) => x.name === tokenMount.name);
      expect(tokenVolume.secret.secretName).toBe('swapless-admin-token');
      // Only variables the server reads.
      for (const name of Object.keys(env)) expect(name).toMatch(/^SWAPLESS_(ADMIN_TOKEN_FILE|DEVICE)$/);
      if (env.SWAPLESS_DEVICE !== undefined) expect(env.SWAPLESS_DEVICE).toBe('edgetpu');

      // One port, the config's; probes on the KServe v2 health routes; scraping on /metrics there.
      expect(c.ports.map((p: Any) => p.containerPort)).toEqual([config.port]);
      const port = (p: number | string) => (p === 'http' ? c.ports[0].containerPort : p);
      expect(c.readinessProbe.httpGet.path).toBe('/v2/health/ready');
      expect(c.livenessProbe.httpGet.path).toBe('/v2/health/live');
      expect(port(c.readinessProbe.httpGet.port)).toBe(config.port);
      expect(port(c.livenessProbe.httpGet.port)).toBe(config.port);
      expect(pod.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(config.port),
        'prometheus.io/path': '/metrics',
      });

      // The drain fits: the preStop pause, then at most shutdownTimeoutMs, all within the grace period.
      expect(c.lifecycle.preStop.exec.command[0]).toBe('sleep');
      const pause = Number(c.lifecycle.preStop.exec.command[1]);
      expect(pause).toBeGreaterThan(0);
      expect(pause + config.shutdownTimeoutMs / 1000).toBeLessThanOrEqual(pod.grace);
      // Liveness fails while the server drains (it answers nothing new): not often enough to be killed for it.
      const live = c.livenessProbe;
      expect((live.periodSeconds ?? 10) * (live.failureThreshold ?? 3)).toBeGreaterThan(
        config.shutdownTimeoutMs / 1000,
      );
      // A request in flight can still finish before the server gives up draining.
      expect(config.deadlineMs).toBeLessThan(config.shutdownTimeoutMs);

      // The tenants' cores fit the CPU limit with one to spare for the server's own thread.
      expect(config.cores).not.toBeNull();
      expect(config.cores!).toBeLessThan(Number(c.resources.limits.cpu));

      // Unprivileged unless the variant passes a device node through.
      const passthrough = /usb|pcie/.test(v);
      expect(c.securityContext.privileged === true, 'privileged').toBe(passthrough);
      if (!passthrough) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
        expect(c.securityContext.runAsUser).toBeGreaterThan(0);
      }
    });
  }

  it('the InferenceService asks for what the ServingRuntime offers', () => {
    const sr = objects('kserve').find((o) => o.kind === 'ServingRuntime')!;
    const isvc = objects('kserve').find((o) => o.kind === 'InferenceService')!;
    const model = isvc.spec.predictor.model;
    expect(model.runtime).toBe(sr.metadata.name);
    expect(sr.spec.supportedModelFormats.map((f: Any) => f.name)).toContain(model.modelFormat.name);
    expect(sr.spec.protocolVersions).toContain(model.protocolVersion);
    // KServe's storage initializer fills /mnt/models: the server's repository is its parent, the folder its model.
    const args = parseServeArgs(sr.spec.containers[0].args).overrides;
    expect(args.repository).toBe('/mnt');
    expect(args.tenants?.[0]?.model).toBe('models');
    expect(sr.spec.containers[0].name).toBe('kserve-container');
  });

  it('the ServiceMonitor scrapes the Service', () => {
    const v = 'overlays/servicemonitor';
    const sm = objects(v).find((o) => o.kind === 'ServiceMonitor')!;
    const svc = objects(v).find((o) => o.kind === 'Service')!;
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p: Any) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.endpoints[0].path).toBe('/metrics');
  });

  it('a pod with a device is replaced one at a time, never surged next to it (one device, one pod)', () => {
    const oneAtATime = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
    for (const v of ['overlays/usb', 'overlays/pcie', 'overlays/device-plugin']) {
      const d = objects(v).find((o) => o.kind === 'Deployment')!;
      expect(d.spec.strategy, v).toEqual(oneAtATime);
    }
    for (const v of ['overlays/kserve-usb', 'overlays/kserve-pcie']) {
      const isvc = objects(v).find((o) => o.kind === 'InferenceService')!;
      expect(isvc.spec.predictor.deploymentStrategy, v).toEqual(oneAtATime);
    }
    // Passed-through devices are not seen by the scheduler: at most one such pod per node.
    for (const v of ['overlays/usb', 'overlays/pcie']) {
      const d = objects(v).find((o) => o.kind === 'Deployment')!;
      const anti =
        d.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
      expect(anti.topologyKey).toBe('kubernetes.io/hostname');
      expect(d.spec.template.metadata.labels).toMatchObject(anti.labelSelector.matchLabels);
    }
    const plain = objects('plain').find((o) => o.kind === 'Deployment')!;
    expect(plain.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });
});
