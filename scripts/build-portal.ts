// Builds the kiosk portal and the admin dashboard (processes/gateway/portal/*.tsx, Preact) into
// dist/portal/, which the gateway's trading listener serves (processes/gateway/portal-routes.ts):
//
//   dist/portal/index.html         the kiosk page (/)
//   dist/portal/admin.html         the dashboard page (/admin)
//   dist/portal/assets/*-HASH.js   entry bundles and shared chunks (ES modules), content-hashed
//   dist/portal/assets/portal-HASH.css
//
// The pages hold no inline script or style (the gateway's Content-Security-Policy forbids them),
// and every asset is bundled from node_modules — no CDN, kiosks may be on closed networks.
//
//   node dist/scripts/build-portal.js [--dev]     (--dev: no minification, inline source maps off)

import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type Metafile } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_DIR = path.join(ROOT, 'processes', 'gateway', 'portal');
const OUT_DIR = path.join(ROOT, 'dist', 'portal');
const ASSETS_DIR = path.join(OUT_DIR, 'assets');
/** The URL prefix of the assets (portal-routes.ts serves exactly this prefix). */
const ASSETS_URL = '/assets/';

interface Page {
  readonly file: string;
  readonly entry: string;
  readonly title: string;
}

const PAGES: readonly Page[] = [
  { file: 'index.html', entry: 'kiosk.tsx', title: 'IMS kiosk' },
  { file: 'admin.html', entry: 'admin.tsx', title: 'IMS dashboard' },
];
const STYLESHEET = 'portal.css';

/** The output file esbuild wrote for one entry point (its hashed name). */
function outputOf(meta: Metafile, entry: string): string {
  const wanted = path.relative(ROOT, path.join(SOURCE_DIR, entry)).split(path.sep).join('/');
  for (const [out, info] of Object.entries(meta.outputs)) {
    if (info.entryPoint === wanted) return path.basename(out);
  }
  throw new Error(`build-portal: esbuild wrote no output for ${wanted}`);
}

function html(page: Page, script: string, css: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${page.title}</title>`,
    `<link rel="stylesheet" href="${ASSETS_URL}${css}">`,
    `<script type="module" src="${ASSETS_URL}${script}"></script>`,
    '</head>',
    '<body>',
    `<div id="app"><noscript>${page.title} needs JavaScript.</noscript></div>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export async function buildPortal(options: { dev: boolean }): Promise<{ files: string[] }> {
  fs.rmSync(OUT_DIR, { recursive: true, force: true });
  fs.mkdirSync(ASSETS_DIR, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [...PAGES.map((p) => path.join(SOURCE_DIR, p.entry)), path.join(SOURCE_DIR, STYLESHEET)],
    outdir: ASSETS_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: !options.dev,
    sourcemap: false,
    legalComments: 'linked',
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': options.dev ? '"development"' : '"production"' },
  });
  const css = outputOf(result.metafile, STYLESHEET);
  for (const page of PAGES) fs.writeFileSync(path.join(OUT_DIR, page.file), html(page, outputOf(result.metafile, page.entry), css));
  const files = fs.readdirSync(OUT_DIR, { recursive: true }).map(String).sort();
  return { files };
}

if (require.main === module) {
  const dev = process.argv.includes('--dev');
  buildPortal({ dev }).then(
    ({ files }) => process.stdout.write(`build-portal: wrote ${files.length} files to ${path.relative(ROOT, OUT_DIR)}/\n`),
    (err: unknown) => {
      process.stderr.write(`build-portal: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
