// A real headless Chromium (Debian's package) driven by playwright-core, for the pages Verity
// serves. Where no Chromium is installed the browser suites skip and say so, unless
// VERITY_REQUIRE_BROWSER=1 (as in .ci/run, which installs it), where they fail instead.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const HAS_BROWSER = existsSync(CHROMIUM);

if (!HAS_BROWSER) {
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.VERITY_REQUIRE_BROWSER === "1") throw new Error(`VERITY_REQUIRE_BROWSER=1 but ${why}`);
  console.warn(`SKIPPED browser tests: ${why}`);
}

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });

/**
 * A page that may reach `origin` only: any other request (a CDN, a font service) is aborted and
 * recorded, so a test can assert that the page works offline.
 */
export const offlinePage = async (browser: Browser, origin: string): Promise<{ readonly page: Page; readonly outside: string[]; readonly errors: string[] }> => {
  const context = await browser.newContext();
  const outside: string[] = [];
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, outside, errors };
};
