// Verity's dashboard: a read-only page over Verity's own GraphQL API (no other data source, no
// CDN). Views by URL hash: #/ overview (tiles, incidents, charts), #/customers (search),
// #/customer/<id> (timeline with raw payloads, entitlements at an instant), #/live (transitions
// as they happen, through graphql-sse), #/webhooks (webhooks out: endpoints, deliveries, attempts). Every value is put in the page as text, never as HTML.
"use strict";

const KEY = "verity.dashboard.key";
const DAY = 86_400_000;

// ---- the API ------------------------------------------------------------------------------------

const headers = () => {
  const key = sessionStorage.getItem(KEY);
  // Without a key, the dashboard on the server's own machine is let in (VERITY_DASHBOARD=loopback).
  return { "content-type": "application/json", "x-verity-dashboard": "1", ...(key ? { authorization: `Bearer ${key}` } : {}) };
};

class SignInNeeded extends Error {}

async function gql(query, variables = {}) {
  const res = await fetch("/graphql", { method: "POST", headers: headers(), body: JSON.stringify({ query, variables }) });
  if (res.status === 401) throw new SignInNeeded("an API key with the dashboard scope is needed");
  const body = await res.json();
  const denied = (body.errors ?? []).find((e) => ["unauthorized", "forbidden"].includes(e.extensions?.code));
  if (denied) throw new SignInNeeded(denied.message);
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

// ---- building the page ---------------------------------------------------------------------------

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const view = () => document.getElementById("view");
const show = (...nodes) => view().replaceChildren(...nodes);

const money = (items) =>
  items.length === 0
    ? "—"
    : items.map((m) => new Intl.NumberFormat("en", { style: "currency", currency: m.currency }).format(m.amount / 100)).join(" · ");
const percent = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const when = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—");

const tile = (title, value, sub, id) => h("article", { class: "tile", "data-tile": id }, h("h3", {}, title), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);

const customerLink = (id) => h("a", { href: `#/customer/${encodeURIComponent(id)}` }, id);

// ---- overview --------------------------------------------------------------------------------------

// Two queries sent together: the tiles and incidents are painted as soon as theirs is answered,
// the charts when theirs is.
const TILES = `query Tiles {
  dashboard {
    metrics { at activeCustomers subscriptionsByStatus { status count } mrr { currency amount }
      movement { new { currency amount } churned { currency amount } net { currency amount } netRevenueRetention { currency rate } }
      trials { trialing ended converted conversionRate } pastDueCount amountAtRisk { currency amount } }
    incidents {
      failedPayments { kind userId subject at detail }
      missedRenewals { kind userId subject at detail }
      rejectedDeliveries { provider code message count receivedAt }
      quotaBlocks { userId feature code count lastAt }
      unprojectedEvents }
    revenuePerThousandCalls { currency amount }
    quotaCheckLatency { count p95 }
  }
}`;

const CHARTS = `query Charts($from: DateTime!, $to: DateTime!) {
  dashboard {
    series(from: $from, to: $to, points: 31) { at mrr { currency amount } activeSubscriptions }
    eventsPerDay(days: 30) { day provider count }
    usage { feature used records subjects }
  }
}`;

function incidentList(title, id, rows, render) {
  return h(
    "details",
    { "data-incident": id, open: rows.length > 0 },
    h("summary", {}, title, " ", h("span", { class: `incident-count${rows.length > 0 ? " bad" : ""}` }, String(rows.length))),
    rows.length === 0 ? h("p", {}, "None.") : h("ul", {}, rows.map(render)),
  );
}

function lineChart(title, points, series) {
  const box = h("article", {}, h("h4", {}, title));
  requestAnimationFrame(() => {
    if (!window.uPlot || points.length === 0) return;
    const width = Math.max(280, box.clientWidth - 40);
    new window.uPlot(
      { width, height: 200, series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a"][i % 4], width: 2 }))], axes: [{}, { size: 70 }] },
      [points.map((p) => p.x), ...series.map((s) => points.map(s.y))],
      box,
    );
  });
  return box;
}

function charts(d) {
  const currencies = [...new Set(d.series.flatMap((p) => p.mrr.map((x) => x.currency)))];
  const providers = [...new Set(d.eventsPerDay.map((r) => r.provider))];
  // Every one of the 30 days, those without events too.
  const today = Math.floor(Date.now() / DAY) * DAY;
  const days = Array.from({ length: 30 }, (_, k) => new Date(today - (29 - k) * DAY).toISOString().slice(0, 10));
  const points = d.series.map((p) => ({ x: Date.parse(p.at) / 1000, p }));
  return [
    lineChart("MRR (90 days)", points, currencies.map((c) => ({ label: c, y: (pt) => (pt.p.mrr.find((x) => x.currency === c)?.amount ?? 0) / 100 }))),
    lineChart("Paying subscriptions (90 days)", points, [{ label: "subscriptions", y: (pt) => pt.p.activeSubscriptions }]),
    lineChart(
      "Events per day by provider (30 days)",
      days.map((day) => ({ x: Date.parse(`${day}T00:00:00Z`) / 1000, day })),
      providers.map((p) => ({ label: p, y: (pt) => d.eventsPerDay.find((r) => r.day === pt.day && r.provider === p)?.count ?? 0 })),
    ),
    h(
      "article",
      { "data-chart": "usage" },
      h("h4", {}, "Usage per metered feature (current periods)"),
      d.usage.length === 0
        ? h("p", {}, "No usage recorded.")
        : h("table", {}, h("tbody", {}, d.usage.map((u) => h("tr", {}, h("td", {}, u.feature), h("td", {}, String(u.used)), h("td", {}, `${u.records} records`), h("td", {}, `${u.subjects} subjects`))))),
    ),
  ];
}

async function overview() {
  const to = new Date();
  const from = new Date(to.getTime() - 90 * DAY);
  const chartsData = gql(CHARTS, { from: from.toISOString(), to: to.toISOString() });
  chartsData.catch(() => undefined);
  const { dashboard: d } = await gql(TILES);
  const m = d.metrics;
  const byStatus = m.subscriptionsByStatus.map((s) => `${s.status} ${s.count}`).join(" · ") || "none";
  const i = d.incidents;
  const chartSection = h("section", { class: "charts" }, h("p", { "aria-busy": "true" }, "Loading charts…"));
  show(
    h("h2", {}, "Overview"),
    h("p", {}, h("small", {}, `As of ${when(m.at)}; movement and trials over the last 30 days.`)),
    h(
      "section",
      { class: "tiles" },
      tile("Active customers", String(m.activeCustomers), "with a trialing, active or past-due subscription", "activeCustomers"),
      tile("MRR", money(m.mrr), "active and past-due subscriptions", "mrr"),
      tile("Subscriptions", String(m.subscriptionsByStatus.reduce((n, s) => n + s.count, 0)), byStatus, "subscriptions"),
      tile("New MRR (30 d)", money(m.movement.new), null, "newMrr"),
      tile("Churned MRR (30 d)", money(m.movement.churned), null, "churnedMrr"),
      tile("Net new MRR (30 d)", money(m.movement.net), null, "netMrr"),
      tile("Net revenue retention", m.movement.netRevenueRetention.map((r) => `${r.currency} ${percent(r.rate)}`).join(" · ") || "—", "30 days", "nrr"),
      tile("Trials", String(m.trials.trialing), `conversion ${percent(m.trials.conversionRate)} (${m.trials.converted} of ${m.trials.ended} ended)`, "trials"),
      tile("Past due", String(m.pastDueCount), `at risk ${money(m.amountAtRisk)}`, "pastDue"),
      tile("Revenue per 1,000 calls", money(d.revenuePerThousandCalls), "MRR over the current periods' usage records", "revenuePerThousandCalls"),
      tile("Quota check p95", d.quotaCheckLatency.p95 === null ? "—" : `${d.quotaCheckLatency.p95.toFixed(1)} ms`, `${d.quotaCheckLatency.count} checks in 24 h (this process)`, "quotaCheckP95"),
    ),
    h("h3", {}, "Incidents"),
    incidentList("Failed payments (30 d)", "failedPayments", i.failedPayments, (x) => h("li", {}, when(x.at), " ", customerLink(x.userId), " ", x.detail)),
    incidentList("Users blocked by a quota (24 h)", "quotaBlocks", i.quotaBlocks, (x) => h("li", {}, when(x.lastAt), " ", customerLink(x.userId), ` ${x.feature} ${x.code} ×${x.count}`)),
    incidentList("Missed renewals", "missedRenewals", i.missedRenewals, (x) => h("li", {}, customerLink(x.userId), " ", x.subject, ": ", x.detail)),
    incidentList("Rejected webhook deliveries (24 h)", "rejectedDeliveries", i.rejectedDeliveries, (x) =>
      h("li", {}, when(x.receivedAt), ` ${x.provider} ${x.code} ×${x.count}: `, x.message),
    ),
    h("p", { "data-incident": "unprojectedEvents" }, "Events stored but not yet projected: ", h("strong", {}, String(i.unprojectedEvents))),
    h("h3", {}, "Charts"),
    chartSection,
  );
  // The first meaningful paint, for `npm run bench`.
  performance.mark("verity:tiles");
  chartsData.then(
    ({ dashboard: c }) => chartSection.replaceChildren(...charts(c)),
    (e) => chartSection.replaceChildren(h("p", { role: "alert" }, `Charts could not be loaded: ${e?.message ?? e}`)),
  );
}

// ---- customers -------------------------------------------------------------------------------------

const CUSTOMERS = `query Customers($search: String, $offset: Int) {
  dashboard { customers(search: $search, offset: $offset) { total customers {
    id email plan subscriptionStatus currentPeriodEnd
    usage { feature limit used } creditBalance } } }
}`;

const usageBars = (usage) =>
  usage.map((e) =>
      h(
        "div",
        { title: `${e.feature}: ${e.used} of ${e.limit}` },
        h("small", {}, `${e.feature} ${e.used}/${e.limit}`),
        h("div", { class: "bar" }, h("span", { class: e.used > e.limit ? "over" : "", style: `width:${Math.min(100, (100 * e.used) / Math.max(e.limit, 1e-9))}%` })),
      ),
    );

async function customers(params) {
  const search = params.get("search") ?? "";
  const offset = Number(params.get("offset") ?? 0) || 0;
  const { dashboard: d } = await gql(CUSTOMERS, { search: search || null, offset });
  const page = d.customers;
  const input = h("input", { type: "search", name: "search", placeholder: "Any id or email", value: search, "aria-label": "Search customers" });
  const go = (o) => (location.hash = `#/customers?search=${encodeURIComponent(input.value)}&offset=${o}`);
  show(
    h("h2", {}, "Customers"),
    h("form", { role: "search", onsubmit: (e) => (e.preventDefault(), go(0)) }, input, h("button", { type: "submit" }, "Search")),
    h("p", {}, `${page.total} customer${page.total === 1 ? "" : "s"}`),
    h(
      "table",
      { "data-table": "customers" },
      h("thead", {}, h("tr", {}, ["Customer", "Email", "Plan", "Status", "Period end", "Usage", "Credits"].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        page.customers.map((c) =>
          h(
            "tr",
            {},
            h("td", {}, customerLink(c.id)),
            h("td", {}, c.email ?? ""),
            h("td", {}, c.plan ?? ""),
            h("td", {}, c.subscriptionStatus ?? ""),
            h("td", {}, when(c.currentPeriodEnd)),
            h("td", {}, usageBars(c.usage)),
            h("td", {}, String(c.creditBalance)),
          ),
        ),
      ),
    ),
    h(
      "nav",
      {},
      offset > 0 ? h("a", { href: "#", onclick: (e) => (e.preventDefault(), go(Math.max(0, offset - 25))) }, "← Newer") : null,
      " ",
      offset + 25 < page.total ? h("a", { href: "#", onclick: (e) => (e.preventDefault(), go(offset + 25)) }, "Older →") : null,
    ),
  );
}

// ---- one customer ----------------------------------------------------------------------------------

// Three queries, not one: each stays within the API's cost limit (README "GraphQL limits").
const CUSTOMER = `query Customer($id: String!) {
  user(id: $id) { id verityId email status customerIds subscription { provider id plan status currentPeriodEnd cancelAtPeriodEnd } }
}`;
const ENTITLEMENTS_AT = `query EntitlementsAt($id: String!, $at: DateTime!) {
  dashboard { entitlementsAt(userId: $id, at: $at) { feature enabled source limit used remaining resetsAt value } }
}`;
const TIMELINE = `query Timeline($id: String!) {
  dashboard { timeline(userId: $id) { cause event { provider id type occurredAt receivedAt rawBody } transitions { entity entityId field from to at } } }
}`;

const decodeRaw = (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
};

async function customer(id, params) {
  const at = params.get("at") ? new Date(params.get("at")) : new Date();
  const [d, e, t] = await Promise.all([gql(CUSTOMER, { id }), gql(ENTITLEMENTS_AT, { id, at: at.toISOString() }), gql(TIMELINE, { id })]);
  if (d.user === null) return show(h("h2", {}, "Customer"), h("p", {}, `No customer is known by the id "${id}".`));
  const u = d.user;
  const atInput = h("input", { type: "datetime-local", name: "at", value: at.toISOString().slice(0, 16), "aria-label": "Entitlements at" });
  show(
    h("h2", {}, `Customer ${u.id}`),
    h("p", {}, u.email ?? "", " · ", u.status, " · Verity id ", u.verityId, u.customerIds.length ? ` · ${u.customerIds.join(", ")}` : ""),
    u.subscription
      ? h("p", { "data-field": "subscription" }, `${u.subscription.plan ?? "(unmapped plan)"} · ${u.subscription.status} · ${u.subscription.provider} ${u.subscription.id} · period ends ${when(u.subscription.currentPeriodEnd)}`)
      : h("p", {}, "No live subscription."),
    h("h3", {}, "Entitlements at"),
    h(
      "form",
      { onsubmit: (e) => (e.preventDefault(), (location.hash = `#/customer/${encodeURIComponent(id)}?at=${encodeURIComponent(new Date(`${atInput.value}Z`).toISOString())}`)) },
      h("fieldset", { role: "group" }, atInput, h("button", { type: "submit" }, "Show")),
    ),
    h(
      "table",
      { "data-table": "entitlements" },
      h("thead", {}, h("tr", {}, ["Feature", "Enabled", "Plan", "Limit", "Used", "Remaining", "Resets"].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        e.dashboard.entitlementsAt.map((e) =>
          h("tr", {}, h("td", {}, e.feature), h("td", {}, e.enabled ? "yes" : "no"), h("td", {}, e.source ?? ""), h("td", {}, e.limit ?? e.value ?? ""), h("td", {}, e.used ?? ""), h("td", {}, e.remaining ?? ""), h("td", {}, when(e.resetsAt))),
        ),
      ),
    ),
    h("h3", {}, "Timeline"),
    h(
      "div",
      { "data-list": "timeline" },
      t.dashboard.timeline.map((entry) =>
        h(
          "details",
          {},
          h("summary", {}, entry.event ? `${when(entry.event.occurredAt)} ${entry.event.provider} ${entry.event.type}` : entry.cause, " — ", entry.transitions.map((t) => `${t.entity}.${t.field}: ${t.from ?? "∅"} → ${t.to ?? "∅"}`).join("; ")),
          entry.event ? h("pre", { class: "raw" }, decodeRaw(entry.event.rawBody)) : h("p", {}, "The event is not stored."),
        ),
      ),
    ),
  );
}

// ---- live ------------------------------------------------------------------------------------------

let stopLive = null;

const RECENT = `query Recent($userId: String, $entity: String) {
  dashboard { recentTransitions(userId: $userId, entity: $entity) { cursor userId entity entityId field from to at cause } }
}`;
const LIVE = `subscription Live($userId: String, $entity: String, $after: String) {
  transitions(userId: $userId, entity: $entity, after: $after) { cursor userId entity entityId field from to at cause }
}`;

function live(params) {
  const filter = { provider: params.get("provider") ?? "", entity: params.get("entity") ?? "", userId: params.get("userId") ?? "" };
  const inputs = {
    provider: h("input", { name: "provider", placeholder: "Provider (stripe, paddle, …)", value: filter.provider }),
    entity: h("input", { name: "entity", placeholder: "Type (subscription, order, usage, …)", value: filter.entity }),
    userId: h("input", { name: "userId", placeholder: "Customer id", value: filter.userId }),
  };
  const feed = h("ul", { id: "feed" });
  const status = h("p", { "data-field": "live-status" }, "Connecting…");
  show(
    h("h2", {}, "Live"),
    h(
      "form",
      { onsubmit: (e) => (e.preventDefault(), (location.hash = `#/live?${new URLSearchParams(Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value])))}`)) },
      h("div", { class: "filters" }, Object.values(inputs), h("button", { type: "submit" }, "Filter")),
    ),
    status,
    feed,
  );
  const line = (t) => h("li", {}, `${when(t.at)} `, customerLink(t.userId), ` ${t.entity}.${t.field} ${t.entityId}: ${t.from ?? "∅"} → ${t.to ?? "∅"} (${t.cause})`);
  const shown = (t) => !filter.provider || t.cause.startsWith(`${filter.provider}:`);
  const variables = { userId: filter.userId || null, entity: filter.entity || null };
  const client = window.graphqlSse.createClient({ url: "/graphql/stream", headers });
  let dispose = () => undefined;
  // The newest transitions first, then live from the newest one's cursor: nothing missed between.
  gql(RECENT, variables).then(
    ({ dashboard: d }) => {
      for (const t of [...d.recentTransitions].reverse()) if (shown(t)) feed.prepend(line(t));
      dispose = client.subscribe(
        { query: LIVE, variables: { ...variables, after: d.recentTransitions[0]?.cursor ?? null } },
        {
          next: ({ data, errors }) => {
            if (errors?.length) return void (status.textContent = errors.map((e) => e.message).join("; "));
            const t = data.transitions;
            if (!shown(t)) return;
            feed.prepend(line(t));
            while (feed.childElementCount > 200) feed.lastElementChild.remove();
          },
          error: (e) => void (status.textContent = `Disconnected: ${e?.message ?? e}`),
          complete: () => undefined,
        },
      );
      status.textContent = "Listening for transitions as they happen.";
    },
    (e) => void (status.textContent = `Could not load: ${e?.message ?? e}`),
  );
  stopLive = () => (dispose(), client.dispose());
}

// ---- sign-in and routing -----------------------------------------------------------------------------

function signIn(reason) {
  const input = h("input", { type: "password", name: "key", placeholder: "vk_…", autocomplete: "off", required: true, "aria-label": "API key" });
  show(
    h("h2", {}, "Sign in"),
    h("p", {}, reason),
    h("p", {}, "Use an API key with the dashboard scope (npx verity keys create --scopes dashboard). It is kept in this tab only."),
    h("form", { onsubmit: (e) => (e.preventDefault(), sessionStorage.setItem(KEY, input.value.trim()), route()) }, h("fieldset", { role: "group" }, input, h("button", { type: "submit" }, "Sign in"))),
  );
}

// ---- webhooks out -----------------------------------------------------------------------------------

const WEBHOOKS = `query Webhooks($status: String) {
  webhookEndpoints { id url filter fedThrough createdAt }
  webhookDeliveries(status: $status, first: 25) { id endpointId userId type status deliveredAt nextAttemptAt attempts { at status error durationMs } }
}`;

async function webhooks(params) {
  const status = params.get("status") || null;
  const { webhookEndpoints: endpoints, webhookDeliveries: deliveries } = await gql(WEBHOOKS, { status });
  const lastTry = (d) => d.attempts.at(-1);
  show(
    h("h2", {}, "Webhooks out"),
    h("h3", {}, "Endpoints"),
    endpoints.length === 0
      ? h("p", {}, "No endpoint yet: npx verity endpoints create --url https://…")
      : h("table", { "data-webhooks": "endpoints" }, h("tbody", {}, endpoints.map((e) => h("tr", {}, h("td", {}, e.id), h("td", {}, e.url), h("td", {}, e.filter ?? "every transition"), h("td", {}, `fed through ${e.fedThrough}`))))),
    h("h3", {}, "Deliveries"),
    h("p", {}, ["", "pending", "delivered", "failed"].map((s) => h("a", { href: `#/webhooks${s ? `?status=${s}` : ""}`, style: "margin-right:1rem", "aria-current": (status ?? "") === s ? "page" : null }, s || "all"))),
    deliveries.length === 0
      ? h("p", {}, "None.")
      : h(
          "table",
          { "data-webhooks": "deliveries" },
          h("thead", {}, h("tr", {}, ["Status", "Type", "Customer", "Attempts", "Last answer", "Next try"].map((t) => h("th", {}, t)))),
          h(
            "tbody",
            {},
            deliveries.map((d) =>
              h(
                "tr",
                { "data-delivery": d.id, "data-status": d.status },
                h("td", {}, d.status),
                h("td", {}, d.type),
                h("td", {}, customerLink(d.userId)),
                h("td", {}, String(d.attempts.length)),
                h("td", {}, lastTry(d) ? `${lastTry(d).status || "no answer"}${lastTry(d).error ? `: ${lastTry(d).error}` : ""} (${when(lastTry(d).at)})` : "—"),
                h("td", {}, d.status === "pending" ? when(d.nextAttemptAt) : "—"),
              ),
            ),
          ),
        ),
  );
}

async function route() {
  stopLive?.();
  stopLive = null;
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  document.getElementById("signout").hidden = !sessionStorage.getItem(KEY);
  for (const a of document.querySelectorAll("[data-nav]")) a.removeAttribute("aria-current");
  try {
    if (path === "/signout") {
      sessionStorage.removeItem(KEY);
      location.hash = "#/";
      return;
    }
    if (path.startsWith("/customer/")) return await customer(decodeURIComponent(path.slice("/customer/".length)), params);
    const name = path === "/customers" ? "customers" : path === "/live" ? "live" : path === "/webhooks" ? "webhooks" : "overview";
    document.querySelector(`[data-nav="${name}"]`)?.setAttribute("aria-current", "page");
    if (name === "customers") return await customers(params);
    if (name === "live") return live(params);
    if (name === "webhooks") return await webhooks(params);
    return await overview();
  } catch (e) {
    if (e instanceof SignInNeeded) return signIn(e.message);
    show(h("h2", {}, "Something went wrong"), h("p", { role: "alert" }, String(e?.message ?? e)));
  }
}

window.addEventListener("hashchange", route);
route();
