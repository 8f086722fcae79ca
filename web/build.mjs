// Bundles the demo app into dist/: app.js (esbuild, browser target) plus the static
// index.html and style.css. Writes a file only when its content changed, so a second run
// leaves dist/ untouched.
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const dist = path.join(here, 'dist');

async function writeIfChanged(file, content) {
  try {
    const old = await readFile(file);
    if (Buffer.compare(old, Buffer.from(content)) === 0) return false;
  } catch { /* missing: write it */ }
  await writeFile(file, content);
  return true;
}

await mkdir(dist, { recursive: true });
const result = await build({
  entryPoints: [path.join(src, 'app.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome111'],
  minify: true,
  sourcemap: 'linked',
  outfile: path.join(dist, 'app.js'),
  write: false,
  logLevel: 'warning',
});
let changed = 0;
for (const file of result.outputFiles) {
  if (await writeIfChanged(file.path, file.contents)) changed++;
}
for (const name of ['index.html', 'style.css']) {
  if (await writeIfChanged(path.join(dist, name), await readFile(path.join(src, name)))) changed++;
}
console.log(`build-web: dist/ ${changed ? `${changed} file(s) updated` : 'up to date'}`);
