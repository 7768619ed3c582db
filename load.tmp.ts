import autocannon from "autocannon";
import { stripeSignatureHeader } from "./src/providers/stripe/verify.ts";
import { customer, stripeEvent, toRawBody } from "./test/builders/stripe.ts";
let n = 0;
const r = await autocannon({ url: "http://127.0.0.1:4555/webhooks/stripe", connections: 32, duration: 8, requests: [{ method: "POST", setupRequest: (req) => { const now = Math.floor(Date.now() / 1000); const i = n++; const body = toRawBody(stripeEvent({ id: `evt_p_${i}`, type: "customer.created", created: now, object: customer({ id: `cus_p_${i}`, metadata: { user_id: `u_${i}` } }) })); return { ...req, body: Buffer.from(body), headers: { "content-type": "application/json", "stripe-signature": stripeSignatureHeader(body, "whsec_verity_test_secret", now) } }; } }] });
console.log(r.requests.average, r.latency.p50, r.latency.p99, r.non2xx);
