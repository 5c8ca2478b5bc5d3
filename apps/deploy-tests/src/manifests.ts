/**
 * The deployment files as data: every Kustomize variant under deploy/kubernetes rendered with `kubectl kustomize`
 * (the kubectl on PATH, or $KUBECTL), and the validators the tests hold each rendered object to — the Kubernetes
 * kinds through kubernetes-models (its compiled JSON-schema validators for types, enums and required fields, and
 * its TypeScript types for unknown fields), the KServe kinds through the openAPIV3Schema of KServe's own CRDs
 * (fixtures/kserve), made strict about unknown fields the way the API server's field validation is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/** The repository root (this file is apps/deploy-tests/src/manifests.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where the Kustomize variants live. */
export const KUSTOMIZE_ROOT = join(REPO_ROOT, 'deploy', 'kubernetes');
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);

/** One object of a rendered variant. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML, checked by the validators below
  spec?: any;
  data?: Record<string, string>;
}

/** Every directory under deploy/kubernetes holding a kustomization.yaml, relative to it (`kserve`, `overlays/usb`). */
export function variants(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'kustomization.yaml'))) out.push(relative(KUSTOMIZE_ROOT, dir));
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(KUSTOMIZE_ROOT);
  return out.sort();
}

/** The kubectl the variants are rendered with. */
export function kubectl(): string {
  return process.env.KUBECTL ?? 'kubectl';
}

/** `kubectl kustomize <variant>` parsed into its objects. */
export function render(variant: string): K8sObject[] {
  const text = execFileSync(kubectl(), ['kustomize', join(KUSTOMIZE_ROOT, variant)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${variant}: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

// ---- KServe: the CRDs' schemas --------------------------------------------------------------------------------

interface CrdSchema {
  group: string;
  version: string;
  kind: string;
  schema: Record<string, unknown>;
}

/**
 * A structural schema made strict: every object schema that lists its properties and neither declares
 * additionalProperties nor preserves unknown fields rejects other properties. The API server drops such fields
 * (or, with strict field validation, refuses the object): either way a typo would silently do nothing.
 */
export function closeSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v as object).map(([name, s]) => [name, closeSchema(s)]));
    } else if (k === 'enum' || k === 'default' || k === 'required') out[k] = v;
    else out[k] = closeSchema(v);
  }
  if (
    'properties' in out &&
    !('additionalProperties' in out) &&
    !out['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** KServe's CRD schemas, by `group/version/kind` (file name in fixtures/kserve). */
const CRD_FILES: Readonly<Record<string, string>> = {
  'serving.kserve.io/v1alpha1/ServingRuntime': 'servingruntimes',
  'serving.kserve.io/v1beta1/InferenceService': 'inferenceservices',
};
// Unoptimised code: the InferenceService schema compiles in half the time, and runs a handful of times here.
const crdAjv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false } });
const crdValidators = new Map<string, ValidateFunction>();

/** The validator of a KServe kind, compiled on first use (the InferenceService schema takes seconds). */
function crdValidator(apiVersion: string, kind: string): ValidateFunction | undefined {
  const key = `${apiVersion}/${kind}`;
  const file = CRD_FILES[key];
  if (file === undefined) return undefined;
  let validator = crdValidators.get(key);
  if (validator === undefined) {
    const crd = JSON.parse(
      readFileSync(join(PACKAGE_DIR, 'fixtures', 'kserve', `${file}.schema.json`), 'utf8'),
    ) as CrdSchema;
    if (`${crd.group}/${crd.version}/${crd.kind}` !== key)
      throw new Error(`${file}.schema.json is not ${key}`);
    validator = crdAjv.compile(closeSchema(crd.schema) as object);
    crdValidators.set(key, validator);
  }
  return validator;
}

function formatAjv(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : '';
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`;
  });
}

// ---- Kubernetes kinds: kubernetes-models -----------------------------------------------------------------------

/** Where kubernetes-models (and its Prometheus Operator sibling) keep the model of an apiVersion/kind. */
export function modelModule(apiVersion: string, kind: string): string | undefined {
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  if (apiVersion.includes('serving.kserve.io')) return undefined;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** The problems of one object against its kind's schema; an unknown kind is a problem too. */
export async function schemaProblems(o: K8sObject): Promise<string[]> {
  const crd = crdValidator(o.apiVersion, o.kind);
  if (crd) return crd(o) ? [] : formatAjv(crd.errors);
  const module = modelModule(o.apiVersion, o.kind);
  if (module === undefined) return [`no schema for ${o.apiVersion} ${o.kind}`];
  let Model: new (data: unknown) => { validate(): void };
  try {
    // Node's own loader: through vitest's module runner, the hundreds of compiled schema modules take seconds.
    Model = require(module)[o.kind];
  } catch {
    return [`no schema for ${o.apiVersion} ${o.kind}`];
  }
  try {
    new Model(o).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/**
 * Unknown fields in Kubernetes objects, found by the TypeScript compiler: each object becomes an object literal
 * typed with its kubernetes-models interface, and excess-property checks name every field the API does not have.
 * Returns the problems per object index (objects without a model are left to {@link schemaProblems}).
 */
export function typeProblems(objects: readonly K8sObject[]): Map<number, string[]> {
  const lines: string[] = [];
  const at: number[] = [];
  objects.forEach((o, i) => {
    const module = modelModule(o.apiVersion, o.kind);
    if (module === undefined) return;
    lines.push(`import type { I${o.kind} as T${i} } from '${module}';`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`);
    at.push(i);
  });
  const out = new Map<number, string[]>();
  if (at.length === 0) return out;
  const path = join(PACKAGE_DIR, 'src', '__rendered__.ts');
  const text = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => f === path || fileExists.call(host, f);
  host.readFile = (f) => (f === path ? text : readFile.call(host, f));
  host.getSourceFile = (f, lang, onError, create) =>
    f === path
      ? ts.createSourceFile(f, text, lang, true)
      : getSourceFile.call(host, f, lang, onError, create);
  const program = ts.createProgram([path], options, host);
  const sf = program.getSourceFile(path)!;
  for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
    const line = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line : 0;
    const index = Number(
      /^export const o(\d+)/.exec(lines[line] ?? '')?.[1] ?? /as T(\d+)/.exec(lines[line] ?? '')?.[1],
    );
    const list = out.get(index) ?? [];
    list.push(`TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    out.set(index, list);
  }
  return out;
}
