// Serves the kiosk portal (/) and the admin dashboard (/admin) on the trading listener, from the
// files scripts/build-portal.ts wrote to dist/portal/. Every file is read into memory once at
// start-up (bounded in count and size), so a page request never touches the disk.
//
// Headers on every answer:
//   Content-Security-Policy  scripts, styles and connections only from this origin; no inline
//                            script or style, no frames, no plugins, no CDN (kiosks may be on
//                            closed networks)
//   Cache-Control            HTML: no-cache (always revalidated, so a deploy is picked up at once);
//                            /assets/*: a year, immutable (names carry a content hash)
//   X-Content-Type-Options, Referrer-Policy, X-Frame-Options, Cross-Origin-Opener-Policy
// Page requests count towards the client IP's request budget like any other request.
//
// Session: the portal keeps its token in memory and sends it as "Authorization: Bearer"; the
// gateway accepts no cookies, so these pages need no CSRF protection.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { failure, failureBody, STATUS_LINE, type ApiFailure } from './api-failure';
import type { GatewayServices } from './gateway-services';
import { remoteIp } from './http-exchange';

/** Where the build writes the portal, relative to this file's compiled location (dist/processes/gateway). */
export const DEFAULT_PORTAL_DIR = path.resolve(__dirname, '..', '..', 'portal');
/** Bounds on what is loaded: the build writes a handful of files of a few hundred KiB. */
export const PORTAL_MAX_FILES = 256;
export const PORTAL_MAX_BYTES = 16 * 1024 * 1024;

export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HTML_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
}

const NOT_BUILT = failure(503, 'portal_not_built', 'the kiosk portal has not been built on this machine; run "npm run build:portal" and restart the gateway');
const NO_ASSET = failure(404, 'not_found', 'no such portal file (an old page? reload it)');

/** Reads the built portal into memory: URL path -> file. Empty when the portal is not built. */
export function loadPortal(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!fs.existsSync(path.join(dir, 'index.html'))) return files;
  let total = 0;
  const add = (url: string, file: string, cacheControl: string): void => {
    const type = CONTENT_TYPES[path.extname(file)];
    if (type === undefined) return;
    if (files.size >= PORTAL_MAX_FILES) throw new Error(`portal: more than ${PORTAL_MAX_FILES} files in ${dir}`);
    const body = fs.readFileSync(file);
    total += body.length;
    if (total > PORTAL_MAX_BYTES) throw new Error(`portal: ${dir} holds more than ${PORTAL_MAX_BYTES} bytes`);
    files.set(url, { body, contentType: type, cacheControl });
  };
  add('/', path.join(dir, 'index.html'), HTML_CACHE);
  if (fs.existsSync(path.join(dir, 'admin.html'))) add('/admin', path.join(dir, 'admin.html'), HTML_CACHE);
  const assets = path.join(dir, 'assets');
  if (fs.existsSync(assets)) for (const name of fs.readdirSync(assets).sort()) add(`/assets/${name}`, path.join(assets, name), ASSET_CACHE);
  return files;
}

function writeSecurityHeaders(res: HttpResponse): void {
  res.writeHeader('content-security-policy', PORTAL_CSP);
  res.writeHeader('x-content-type-options', 'nosniff');
  res.writeHeader('referrer-policy', 'no-referrer');
  res.writeHeader('x-frame-options', 'DENY');
  res.writeHeader('cross-origin-opener-policy', 'same-origin');
}

function answerFile(res: HttpResponse, f: StaticFile): void {
  res.cork(() => {
    res.writeStatus('200 OK');
    res.writeHeader('content-type', f.contentType);
    res.writeHeader('cache-control', f.cacheControl);
    writeSecurityHeaders(res);
    res.end(f.body);
  });
}

function answerFailure(res: HttpResponse, f: ApiFailure): void {
  res.cork(() => {
    res.writeStatus(STATUS_LINE[f.status] ?? `${f.status} Error`);
    res.writeHeader('content-type', 'application/json');
    res.writeHeader('cache-control', 'no-store');
    if (f.retryAfterS !== undefined) res.writeHeader('retry-after', String(f.retryAfterS));
    writeSecurityHeaders(res);
    res.end(failureBody(f));
  });
}

/** Registers GET /, /admin and /assets/* on the trading listener (before the API's catch-all 404). */
export function mountPortal(app: TemplatedApp, s: Pick<GatewayServices, 'gatekeeper' | 'log'>, dir = DEFAULT_PORTAL_DIR): void {
  const files = loadPortal(dir);
  if (files.size === 0) s.log.warn({ event: 'portal-not-built', dir }, 'the kiosk portal is not built; / answers 503 portal_not_built');
  // Every answer is written synchronously, so no onAborted handler is needed (uWS requires one
  // only for responses answered after the handler returns).
  const serve = (res: HttpResponse, url: string, missing: ApiFailure): void => {
    const limited = s.gatekeeper.ipRequest(remoteIp(res), Date.now());
    if (limited !== null) return answerFailure(res, limited);
    const f = files.get(url);
    if (f === undefined) return answerFailure(res, files.size === 0 ? NOT_BUILT : missing);
    answerFile(res, f);
  };
  app.get('/', (res) => serve(res, '/', NOT_BUILT));
  app.get('/admin', (res) => serve(res, '/admin', NOT_BUILT));
  app.get('/assets/*', (res, req) => serve(res, req.getUrl(), NO_ASSET));
}
