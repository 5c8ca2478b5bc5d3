// Builds the addon with node-gyp against the headers of the Node that runs this script.
// node-gyp run outside npm would try to download headers (no network here) and delete build/ on failure,
// so --nodedir is always passed explicitly: the prefix of process.execPath, which carries include/node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = dirname(here);
const require = createRequire(import.meta.url);
const nodedir = dirname(dirname(process.execPath));

if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(
    `[tflite-addon] Node headers not found under ${nodedir}/include/node. ` +
      'Install the headers that match this Node (e.g. the nodejs or libnode-dev package) and run `npm rebuild @swapless/tflite-addon`.',
  );
  process.exit(1);
}

// In the repository the pinned dev dependency builds the addon. Installed from a tarball or the registry,
// node-gyp is not among this package's dependencies: npm runs install scripts with npm_config_node_gyp pointing
// at the node-gyp it bundles.
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  gyp = process.env.npm_config_node_gyp;
}
if (!gyp || !existsSync(gyp)) {
  console.error(
    '[tflite-addon] node-gyp not found: install with npm (which provides it to install scripts), or `npm install node-gyp`.',
  );
  process.exit(1);
}

const args = [
  gyp,
  existsSync(join(pkgDir, 'build', 'config.gypi')) ? 'build' : 'rebuild',
  `--nodedir=${nodedir}`,
  '--loglevel=warn',
];
if (process.argv.includes('--rebuild')) args[1] = 'rebuild';
const r = spawnSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('[tflite-addon] building the native addon failed (see the compiler output above).');
  process.exit(r.status ?? 1);
}
