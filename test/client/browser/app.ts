// The tiny React app the browser test bundles (esbuild) and loads in Chromium: one line per user,
// each a useEntitlement through the VerityProvider's client, which talks to the app's own backend
// (it proxies to Verity and adds the key: the page holds none); one more line through a client of
// a route whose key Verity refuses, and one of a route where Verity is not serving yet. A button
// unmounts them all.
import { createVerityClient } from "@verity/client";
import { useEntitlement, VerityProvider } from "@verity/client/react";
import { createElement, useState, type ReactElement } from "react";
import { createRoot } from "react-dom/client";

/** Set by the page before this script runs. */
type PageConfig = { readonly feature: string; readonly url: string; readonly users: readonly string[]; readonly refusedUrl: string; readonly downUrl: string };

// The test's tsconfig has no DOM library: the page's globals are reached through their shape.
const page = globalThis as unknown as { readonly TEST: PageConfig; readonly document: { getElementById(id: string): unknown } };
const { feature, url, users, refusedUrl, downUrl } = page.TEST;

const client = createVerityClient({ url });
const refused = createVerityClient({ url: refusedUrl });
const down = createVerityClient({ url: downUrl });
const fast = { unknownUserRetryMs: 200, backoff: () => 100 };

const Line = ({ userId, view, state }: { readonly userId: string; readonly view: string; readonly state: ReturnType<typeof useEntitlement> }): ReactElement => {
  const { loading, error, enabled, entitlement } = state;
  const text = loading ? "loading" : error !== null ? `error: ${error.message}` : enabled ? `enabled by ${entitlement?.source}` : entitlement === null ? "unknown user" : "not enabled";
  return createElement("p", { "data-view": view, "data-user": userId }, text);
};

const Entitled = ({ userId }: { readonly userId: string }): ReactElement => createElement(Line, { userId, view: "provider", state: useEntitlement(userId, feature, fast) });

const Refused = ({ userId }: { readonly userId: string }): ReactElement => createElement(Line, { userId, view: "refused", state: useEntitlement(userId, feature, { ...fast, client: refused }) });

const Down = ({ userId }: { readonly userId: string }): ReactElement => createElement(Line, { userId, view: "down", state: useEntitlement(userId, feature, { ...fast, client: down }) });

const App = (): ReactElement => {
  const [shown, setShown] = useState(true);
  const lines = [...users.map((u) => createElement(Entitled, { key: u, userId: u })), createElement(Refused, { key: "refused", userId: users[0]! }), createElement(Down, { key: "down", userId: users[0]! })];
  return createElement(
    VerityProvider,
    { client },
    createElement("button", { id: "unmount", onClick: () => setShown(false) }, "unmount"),
    shown ? lines : createElement("p", { id: "gone" }, "unmounted"),
  );
};

createRoot(page.document.getElementById("root") as Parameters<typeof createRoot>[0]).render(createElement(App));
