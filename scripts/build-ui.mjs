#!/usr/bin/env node
// Builds the dashboard (ui/src, Preact + uPlot) into dist/ui: index.html, assets/app.js,
// assets/app.css. Run by `npm run build` and before the tests; the output ships in the package,
// so nothing is fetched at run time. --if-stale skips the build when dist/ui is newer than ui/.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'ui');

/** @param {string} dir @returns {number} */
function newest(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

const built = path.join(out, 'assets', 'app.js');
if (process.argv.includes('--if-stale') && existsSync(built) && statSync(built).mtimeMs >= Math.max(newest(path.join(root, 'ui')), statSync(path.join(root, 'package-lock.json')).mtimeMs)) {
  process.exit(0);
}
mkdirSync(path.join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: path.join(root, 'ui', 'src', 'main.tsx') },
  outdir: path.join(out, 'assets'),
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(path.join(root, 'ui', 'index.html'), path.join(out, 'index.html'));
console.error(`switchyard: dashboard built into ${path.relative(root, out)}/`);
