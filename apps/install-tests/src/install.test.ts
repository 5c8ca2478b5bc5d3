/**
 * Packages that install alone: every public package is packed with `npm pack`, checked with publint, installed by
 * itself (with its README's install command) into an empty project, and its README examples run there — with
 * nothing from this repository on the resolution path. The native addon is compiled from its tarball.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dependsOn,
  installAlone,
  installLine,
  type PublicPackage,
  packAll,
  publicPackages,
  REPO_ROOT,
  run,
  type Tarball,
} from './packages.js';
import { importedPackages, runnableExamples, toJavaScript } from './readme.js';

const packages = publicPackages();
const work = mkdtempSync(join(tmpdir(), 'swapless-install-'));
let tarballs = new Map<string, Tarball>();
const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** A tsconfig for a user's project: strict, the given module settings, the Node types from the repository. */
function tsconfig(module: string, moduleResolution: string, files: string[], nodeTypes = true): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module,
      moduleResolution,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: nodeTypes ? ['node'] : [],
      typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
    },
    files,
  });
}

/** The file paths an exports map points at (its string leaves). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(exportTargets);
}

const projectDir = (p: PublicPackage) => join(work, 'projects', p.name.replace('@swapless/', ''));

beforeAll(async () => {
  tarballs = await packAll(packages, join(work, 'tarballs'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarballs', () => {
  it('exist for every public package (the 19 libraries and the native addon)', () => {
    expect(packages.length).toBeGreaterThanOrEqual(20);
    expect([...tarballs.keys()].sort()).toEqual(packages.map((p) => p.name));
  });

  it('carry README.md, LICENSE (Apache-2.0) and the files the exports map names', () => {
    for (const p of packages) {
      const t = tarballs.get(p.name)!;
      expect(t.files, p.name).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
      for (const target of exportTargets(p.manifest.exports)) {
        expect(t.files, `${p.name} exports ${target}`).toContain(target.replace(/^\.\//, ''));
      }
    }
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toContain('Apache License');
  });

  it('declare an exports map with types first and ./package.json, a files list, and caret @swapless ranges', () => {
    for (const p of packages) {
      const { exports, files } = p.manifest;
      expect(exports?.['./package.json'], p.name).toBe('./package.json');
      const root = exports?.['.'] as Record<string, string> | undefined;
      expect(Object.keys(root ?? {})[0], `${p.name} exports["."]`).toBe('types');
      expect(files?.length, `${p.name} files`).toBeGreaterThan(0);
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies'] as const) {
        for (const [dep, range] of Object.entries(p.manifest[field] ?? {})) {
          if (dep.startsWith('@swapless/')) expect(range, `${p.name} ${field} ${dep}`).toMatch(/^\^\d/);
        }
      }
    }
  });

  it('pass publint with no error, warning or suggestion', async () => {
    const found: string[] = [];
    for (const p of packages) {
      const bytes = readFileSync(tarballs.get(p.name)!.path);
      const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
      for (const m of messages) found.push(`${p.name}: ${m.type} ${formatMessage(m, pkg, { color: false })}`);
    }
    expect(found).toEqual([]);
  });
});

// The addon first: its project proves that the tarball compiles on install; the projects of the packages that
// depend on it then install with scripts off and get that compiled binary copied in (see installAlone's caller).
const ADDON = '@swapless/tflite-addon';
const ordered = [...packages].sort((a, b) => Number(b.name === ADDON) - Number(a.name === ADDON));
let addonBinary: string | null = null;
const typeScriptExamples: string[] = [];

describe.each(ordered)('$name installed alone', (p) => {
  const readme = readFileSync(join(REPO_ROOT, p.dir, 'README.md'), 'utf8');
  const names = installLine(readme);
  const examples = runnableExamples(readme);

  it('has an install command naming it, and examples that import only what it installs', () => {
    expect(names, `${p.name} README: npm install line`).toContain(p.name);
    expect(examples.length, `${p.name} README: a runnable example`).toBeGreaterThan(0);
    for (const e of examples) {
      for (const imported of importedPackages(e.code)) {
        expect(names, `${p.name} README line ${e.line} imports ${imported}`).toContain(imported);
      }
    }
  });

  it('installs from the tarballs into an empty project and runs its README examples', async () => {
    const dir = projectDir(p);
    const reuse = p.name !== ADDON && addonBinary !== null && dependsOn(packages, names, ADDON);
    const install = await installAlone(dir, names, tarballs, packages, { ignoreScripts: reuse });
    expect(install.code, `npm install ${names.join(' ')}:\n${install.output}`).toBe(0);
    const binary = join(dir, 'node_modules', ADDON, 'build', 'Release', 'swapless_tflite.node');
    if (p.name === ADDON) addonBinary = binary;
    else if (reuse) {
      mkdirSync(dirname(binary), { recursive: true });
      copyFileSync(addonBinary!, binary);
    }
    for (const [i, e] of examples.entries()) {
      const file = join(dir, `example-${i}.mjs`);
      writeFileSync(file, toJavaScript(e));
      const r = await run(process.execPath, [file], dir, 180_000);
      expect(r.code, `${p.dir}/README.md line ${e.line}, run in ${dir}:\n${r.output}`).toBe(0);
      if (e.lang === 'ts') {
        writeFileSync(join(dir, `example-${i}.ts`), e.code);
        typeScriptExamples.push(relative(join(work, 'projects'), join(dir, `example-${i}.ts`)));
      }
    }
  });
});

describe('the TypeScript README examples', () => {
  it('type-check against the types installed with them (strict, NodeNext)', async () => {
    // One program for all projects (each example resolves its imports in its own project's node_modules), so
    // the Node and fastify types are loaded once rather than 17 times.
    expect(typeScriptExamples.length).toBeGreaterThan(10);
    const projects = join(work, 'projects');
    writeFileSync(join(projects, 'tsconfig.json'), tsconfig('NodeNext', 'NodeNext', typeScriptExamples));
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], projects);
    expect(r.code, `tsc in ${projects}:\n${r.output}`).toBe(0);
  });
});

describe('TypeScript module settings a user needs', () => {
  // One package is enough: every public package has the same ESM-only shape (exports map, no main/types).
  const check =
    "import { ErrorCodes } from '@swapless/core';\nexport const code: string = ErrorCodes.INVALID_ARGUMENT;\n";
  const settings: [module: string, resolution: string, works: boolean][] = [
    ['NodeNext', 'NodeNext', true],
    ['ESNext', 'Bundler', true],
    ['CommonJS', 'Node10', false],
  ];
  it.each(settings)(
    'module %s with moduleResolution %s resolves the package: %s',
    async (module, resolution, works) => {
      const dir = projectDir(packages.find((p) => p.name === '@swapless/core')!);
      writeFileSync(join(dir, 'check.ts'), check);
      const config = `tsconfig.${resolution}.json`;
      writeFileSync(join(dir, config), tsconfig(module, resolution, ['check.ts'], false));
      const r = await run(process.execPath, [tsc, '-p', config], dir);
      if (works) expect(r.code, r.output).toBe(0);
      else expect(r.output).toMatch(/TS2307: Cannot find module '@swapless\/core'|TS7016/);
    },
  );
});
