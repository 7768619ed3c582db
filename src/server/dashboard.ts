// The dashboard's page and assets, served by Verity itself (no CDN: it works offline): the page
// and script in src/dashboard, Pico CSS, uPlot and the graphql-sse client from the installed
// packages. Each asset is read once and kept in memory. The page only calls the GraphQL API.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage } from "node:http";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const own = (name: string) => join(here, "..", "dashboard", name);
const packaged = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);

/** Asset name → file and content type: nothing else under /dashboard/assets is served. */
const ASSETS: Readonly<Record<string, readonly [string, string]>> = {
  "dashboard.js": [own("dashboard.js"), "text/javascript; charset=utf-8"],
  "dashboard.css": [own("dashboard.css"), "text/css; charset=utf-8"],
  "pico.min.css": [packaged("@picocss/pico", "css/pico.min.css"), "text/css; charset=utf-8"],
  "uPlot.min.css": [packaged("uplot", "dist/uPlot.min.css"), "text/css; charset=utf-8"],
  "uPlot.iife.min.js": [packaged("uplot", "dist/uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
  "graphql-sse.min.js": [packaged("graphql-sse", "umd/graphql-sse.min.js"), "text/javascript; charset=utf-8"],
};

const loaded = new Map<string, Buffer>();
const contents = (file: string): Buffer => {
  let body = loaded.get(file);
  if (body === undefined) loaded.set(file, (body = readFileSync(file)));
  return body;
};

export type DashboardFile = { readonly body: Buffer; readonly contentType: string };

/** The file GET `path` names under /dashboard, or null. */
export const dashboardFile = (path: string): DashboardFile | null => {
  if (path === "/dashboard" || path === "/dashboard/") return { body: contents(own("index.html")), contentType: "text/html; charset=utf-8" };
  const asset = /^\/dashboard\/assets\/([A-Za-z.-]+)$/.exec(path);
  const known = asset ? ASSETS[asset[1]!] : undefined;
  return known === undefined ? null : { body: contents(known[0]), contentType: known[1] };
};

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOCAL_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The host name a Host header names, without its port. */
const hostName = (host: string): string => (host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!).toLowerCase();

/** Whether a request comes straight from this machine: a loopback address, not forwarded by a proxy. */
export const isLoopbackRequest = (req: IncomingMessage): boolean =>
  req.headers["x-forwarded-for"] === undefined && req.headers.forwarded === undefined && LOOPBACK.has(req.socket.remoteAddress ?? "");

/**
 * Whether a request without a key is the dashboard on this machine: it says it is the dashboard,
 * comes from a loopback address, was not forwarded by a proxy (behind a local reverse proxy every
 * visitor would come from loopback), names this machine in its Host header (a DNS-rebinding page
 * names its own), and, when the browser says where it comes from, comes from the page itself: any
 * other site open in the operator's browser could otherwise read the dashboard through it.
 */
export const isLocalDashboard = (req: IncomingMessage): boolean => {
  const h = req.headers;
  if (h.authorization !== undefined || h["x-verity-dashboard"] === undefined) return false;
  if (h["x-forwarded-for"] !== undefined || h.forwarded !== undefined) return false;
  if (!LOOPBACK.has(req.socket.remoteAddress ?? "")) return false;
  const host = h.host ?? "";
  if (!LOCAL_NAMES.has(hostName(host))) return false;
  if (h.origin !== undefined && h.origin !== `http://${host}` && h.origin !== `https://${host}`) return false;
  const site = h["sec-fetch-site"];
  return site === undefined || site === "same-origin" || site === "none";
};
