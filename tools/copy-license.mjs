// `prepack` step of every published package: copies the repository's LICENSE (Apache-2.0) into the package
// directory, so `npm pack` / `npm publish` ship it (npm always includes a top-level LICENSE file). The copies are
// not committed (.gitignore): the repository root holds the one license text.
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
copyFileSync(join(root, 'LICENSE'), join(process.cwd(), 'LICENSE'));
