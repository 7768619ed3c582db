// `verity simulate <provider> <scenario>`: the events a provider would send for a step of a
// customer's life, signed with the webhook secret and posted to a running Verity, so a user sees
// the whole flow (webhook → event store → entitlements → live transitions) without a provider
// account or the provider's CLI.
import { Either } from "effect";
import { loadCatalog } from "../config/catalog.js";
import { isProvider } from "../domain/provider.js";
import { webhookSchemes } from "../providers/registry.js";
import { isScenario, SCENARIOS, SIMULATED } from "../simulate/scenarios.js";
import { InputError, parse, settingsFor, UsageError, type Io } from "./args.js";

export const SIMULATE_HELP = `Usage: verity simulate <provider> <scenario> --user U --price P [--url URL] [--amount CENTS] [--currency C]

Posts the signed events a provider sends for one step of a customer's life to a running Verity.
  provider    ${Object.keys(SIMULATED).join(", ")}
  scenario    ${SCENARIOS.join(", ")}
              subscription: customer, subscription and first invoice; renewal: the next period paid;
              past-due: a failed renewal; cancel: the subscription ends; purchase: a one-time
              checkout; refund: that payment refunded. Run subscription (or purchase) first.
  --user U    your app's user id (in the customer's metadata, or the checkout's custom data, as user_id)
  --price P   the provider's price id, as your plan catalog maps it
  --url URL   where Verity runs (default http://localhost:$PORT, PORT default 4000)
  --amount N  what the price costs, in minor units (default: the catalog's price for its plan, else 1000)
  --currency  default usd
Signs with the provider's webhook secret from the environment or .env (STRIPE_WEBHOOK_SECRET,
PADDLE_WEBHOOK_SECRET, LEMONSQUEEZY_WEBHOOK_SECRET, CREEM_WEBHOOK_SECRET), the one the running Verity checks.
For Lemon Squeezy, --price is a variant id. Object ids derive from --user and --price, so later scenarios act on
what the first created; every run sends new event ids.`;

export const simulateCommand = async (args: string[], io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { user: { type: "string" }, price: { type: "string" }, url: { type: "string" }, amount: { type: "string" }, currency: { type: "string" } }, true);
  if (values.help) return io.out(SIMULATE_HELP), 0;
  const [provider, scenario, ...extra] = positionals;
  if (provider === undefined || scenario === undefined) throw new UsageError({ message: "simulate needs a provider and a scenario, e.g. verity simulate stripe subscription --user user_123 --price price_123" });
  if (extra.length > 0) throw new UsageError({ message: `unexpected argument "${extra[0]}"` });
  if (!isProvider(provider)) throw new UsageError({ message: `unknown provider "${provider}"; simulate knows ${Object.keys(SIMULATED).join(", ")}` });
  const simulated = SIMULATED[provider];
  if (simulated === undefined) throw new UsageError({ message: `simulate knows ${Object.keys(SIMULATED).join(" and ")} so far; ${provider}'s scenarios are not built yet (use its own test mode meanwhile)` });
  if (!isScenario(scenario)) throw new UsageError({ message: `unknown scenario "${scenario}"; scenarios are ${SCENARIOS.join(", ")}` });
  const user = typeof values.user === "string" ? values.user.trim() : "";
  const price = typeof values.price === "string" ? values.price.trim() : "";
  if (user === "" || price === "") throw new UsageError({ message: "--user and --price are required" });
  if (provider === "lemonsqueezy" && !/^[1-9]\d{0,15}$/.test(price)) throw new UsageError({ message: `a Lemon Squeezy price is a variant id (a whole number), got "${price}"` });
  const currency = typeof values.currency === "string" ? values.currency.trim().toLowerCase() : "usd";
  if (!/^[a-z]{3}$/.test(currency)) throw new UsageError({ message: `--currency must be a 3-letter code, got "${currency}"` });

  const settings = settingsFor();
  const secret = (settings.webhookSecrets[provider] ?? [])[0];
  const variable = webhookSchemes[provider]?.secretVariable ?? "the webhook secret";
  if (secret === undefined) {
    throw new InputError({ message: `${variable} is not set (in the environment or .env): the running Verity refuses unsigned webhooks, so simulate signs with the secret it checks` });
  }
  const amount = (() => {
    if (typeof values.amount === "string") {
      const n = Number(values.amount);
      if (!Number.isInteger(n) || n < 0) throw new UsageError({ message: `--amount must be a whole number of minor units (cents), got "${values.amount}"` });
      return n;
    }
    // The catalog's price for the plan this price maps to, when it says.
    const catalog = loadCatalog(settings.configPath);
    if (Either.isLeft(catalog)) return 1000;
    const plan = Object.values(catalog.right.plans).find((p) => (p.prices[provider] ?? []).includes(price));
    return plan?.price?.amount ?? 1000;
  })();
  const base = (typeof values.url === "string" ? values.url : `http://localhost:${settings.port}`).replace(/\/+$/, "");

  // Providers date events to the second (Stripe only to the second), and events of one second are
  // ordered by what they say, not by arrival. A scenario starts on a fresh second so that it never
  // ties with the one run just before it (a refund sent in the purchase's second could be ordered
  // before it).
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  for (const event of simulated.scenario(scenario, { user, price, amount, currency, now: Math.floor(Date.now() / 1000) })) {
    const body = event.body;
    const [header, signature] = simulated.sign(body, secret, Math.floor(Date.now() / 1000));
    let res: Response;
    try {
      res = await fetch(`${base}/webhooks/${provider}`, {
        method: "POST",
        headers: { "content-type": "application/json", [header]: signature },
        body: Buffer.from(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new InputError({ message: `no Verity answers at ${base} (${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}): start it (npm start) or pass --url` });
    }
    const text = await res.text();
    if (res.status !== 200) {
      io.err(`${event.type} ${event.id ?? ""} → ${res.status} ${text}`);
      return 1;
    }
    const answer = JSON.parse(text) as { seq?: number; duplicate?: boolean; id?: string };
    io.out(`${event.type} ${answer.id ?? event.id} → 200 ${answer.duplicate === true ? "duplicate" : "stored"} (seq ${answer.seq})`);
  }
  return 0;
};
