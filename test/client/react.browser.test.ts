// useEntitlement (@verity/client/react) in a real headless Chromium: a tiny React app (browser/app.ts,
// bundled here with esbuild from the built package) is served by a stand-in for the app's backend,
// which proxies /verity/* to a real Verity and adds the key, as the README tells a browser app to do.
// Webhooks delivered while the page is open turn its lines from not enabled (and from a user Verity
// did not know yet) to enabled without a reload; a refused key and a Verity not serving yet show as
// errors; unmounting ends every live subscription on the server.
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_BROWSER, launchBrowser, offlinePage } from "../support/browser.js";
import { knownUser, startWorld, subscribePro, type World } from "./world.js";

const APP = fileURLToPath(new URL("./browser/app.ts", import.meta.url));

/** Forwards `req` to Verity under `target` with `key`, streaming both ways (event streams included). */
const proxy = (req: IncomingMessage, res: ServerResponse, target: URL, path: string, key: string): void => {
  const headers = { ...req.headers, host: target.host, authorization: `Bearer ${key}` };
  const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => res.destroy());
  // The browser going away (an unmounted hook aborts its stream) ends the request to Verity too.
  res.on("close", () => upstream.destroy());
  req.pipe(upstream);
};

describe.skipIf(!HAS_BROWSER)("useEntitlement in Chromium", () => {
  let world: World;
  let browser: Browser;
  let backend: Server;
  let origin: string;

  beforeAll(async () => {
    world = await startWorld();
    await knownUser(world.server, "u_browser", world.now - 30);
    const bundle = await build({ entryPoints: [APP], bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent", define: { "process.env.NODE_ENV": '"production"' } });
    const script = bundle.outputFiles[0]!.contents;
    const target = new URL(world.server.url);
    backend = createServer((req, res) => {
      const url = req.url ?? "/";
      if (url.startsWith("/verity/")) return proxy(req, res, target, url.slice("/verity".length), world.readKey);
      if (url.startsWith("/refused/")) return proxy(req, res, target, url.slice("/refused".length), "vty_revoked_or_never_issued");
      if (url.startsWith("/down/")) return void res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "starting", message: "Verity is catching up on stored events; retry shortly" } }));
      if (url === "/app.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(script);
      const config = { feature: "export", url: "/verity", refusedUrl: "/refused", downUrl: "/down", users: ["u_browser", "u_later", "u_pro"] };
      res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><div id="root"></div><script>window.TEST = ${JSON.stringify(config)}</script><script type="module" src="/app.js"></script>`);
    });
    await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
    await world?.stop();
  });

  it("renders entitlements and turns them on as webhooks arrive, live; unmounting ends the subscriptions", async () => {
    const { page, outside, errors } = await offlinePage(browser, origin);
    await page.goto(origin);
    const line = (view: string, user: string) => page.locator(`p[data-view="${view}"][data-user="${user}"]`);
    const shows = async (view: string, user: string, text: string) => expect.poll(() => line(view, user).innerText(), { timeout: 15_000 }).toBe(text);

    await shows("provider", "u_browser", "not enabled");
    await shows("provider", "u_later", "unknown user");
    await shows("provider", "u_pro", "enabled by pro");
    await shows("refused", "u_browser", "error: this key is not known or was revoked");
    await shows("down", "u_browser", "error: Verity is catching up on stored events; retry shortly");
    // Streams are open for the known users before anything changes.
    await expect.poll(() => world.server.app.live.active, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);

    await subscribePro(world.server, "u_browser", world.now - 20);
    await shows("provider", "u_browser", "enabled by pro");

    // A user Verity did not know: the hook looks again until the first webhooks make it known, then goes live.
    await knownUser(world.server, "u_later", world.now - 15);
    await subscribePro(world.server, "u_later", world.now - 10);
    await shows("provider", "u_later", "enabled by pro");
    await expect.poll(() => world.server.app.live.active, { timeout: 10_000 }).toBe(3);

    await page.click("#unmount");
    await page.waitForSelector("#gone");
    await expect.poll(() => world.server.app.live.active, { timeout: 10_000 }).toBe(0);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
