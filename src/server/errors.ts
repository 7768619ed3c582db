// Why a request is refused: tagged errors, each carrying the status and the stable code it is
// answered with ({ "error": { "code", "message" } }), so a refusal's answer is decided where the
// refusal is defined, and `answerOf` turns any of them into an answer. Handlers are plain async
// functions that end in an Either of an answer or a refusal (an Either is an Effect that needs no
// fiber): a read answered from memory or a webhook delivery pays for no fiber runtime.
import type { ServerResponse } from "node:http";
import { Data, Effect } from "effect";
import type { VerifyFailure } from "../providers/types.js";

export class Unauthorized extends Data.TaggedError("Unauthorized")<{}> {
  readonly status = 401;
  readonly code = "unauthorized";
  override readonly message = "an API key is required: send Authorization: Bearer <key>";
}
export class InvalidApiKey extends Data.TaggedError("InvalidApiKey")<{}> {
  readonly status = 401;
  readonly code = "invalid_api_key";
  override readonly message = "this key is not known or was revoked";
}
export class Forbidden extends Data.TaggedError("Forbidden")<{ readonly scope: string }> {
  readonly status = 403;
  readonly code = "forbidden";
  override get message() {
    return `this API key lacks the "${this.scope}" scope`;
  }
}
export class RouteNotFound extends Data.TaggedError("RouteNotFound")<{ readonly method: string; readonly path: string }> {
  readonly status = 404;
  readonly code = "not_found";
  override get message() {
    return `no route for ${this.method} ${this.path}`;
  }
}
export class UserNotFound extends Data.TaggedError("UserNotFound")<{ readonly id: string }> {
  readonly status = 404;
  readonly code = "user_not_found";
  override get message() {
    return `no user is known by the id "${this.id}"`;
  }
}
export class UnknownProvider extends Data.TaggedError("UnknownProvider")<{ readonly name: string }> {
  readonly status = 404;
  readonly code = "unknown_provider";
  override get message() {
    return `no provider named "${this.name}"`;
  }
}
export class MethodNotAllowed extends Data.TaggedError("MethodNotAllowed")<{ readonly message: string }> {
  readonly status = 405;
  readonly code = "method_not_allowed";
}
export class InvalidParameter extends Data.TaggedError("InvalidParameter")<{ readonly message: string }> {
  readonly status = 400;
  readonly code = "invalid_parameter";
}
export class PayloadTooLarge extends Data.TaggedError("PayloadTooLarge")<{ readonly message: string }> {
  readonly status = 413;
  readonly code = "payload_too_large";
}

// Refusals of a usage record or a check (POST /v1/usage, /v1/check).
export class UnknownFeature extends Data.TaggedError("UnknownFeature")<{ readonly feature: string }> {
  readonly status = 400;
  readonly code = "unknown_feature";
  override get message() {
    return `no plan in the catalog has a feature named "${this.feature}"`;
  }
}
/** Usage sent for a feature that is not counted: a concurrency limit (take a lease) or a plain value. */
export class NotMetered extends Data.TaggedError("NotMetered")<{ readonly message: string }> {
  readonly status = 400;
  readonly code = "not_metered";
}
export class NoEntitlement extends Data.TaggedError("NoEntitlement")<{ readonly feature: string; readonly userId: string }> {
  readonly status = 402;
  readonly code = "no_entitlement";
  override get message() {
    return `no live plan of "${this.userId}" grants "${this.feature}"`;
  }
}
export class InsufficientCredits extends Data.TaggedError("InsufficientCredits")<{ readonly message: string; readonly details: Readonly<Record<string, unknown>> }> {
  readonly status = 402;
  readonly code = "insufficient_credits";
}
/** A `block` quota spent: nothing was recorded; `details` says how it stands and when it resets. */
export class QuotaExceeded extends Data.TaggedError("QuotaExceeded")<{ readonly message: string; readonly details: Readonly<Record<string, unknown>> }> {
  readonly status = 429;
  readonly code = "quota_exceeded";
}

/** Every slot of a concurrency limit is held: `details` says how many and when the first frees itself. */
export class ConcurrencyExceeded extends Data.TaggedError("ConcurrencyExceeded")<{ readonly message: string; readonly details: Readonly<Record<string, unknown>> }> {
  readonly status = 429;
  readonly code = "concurrency_exceeded";
}
export class EventNotFound extends Data.TaggedError("EventNotFound")<{ readonly id: string }> {
  readonly status = 404;
  readonly code = "event_not_found";
  override get message() {
    return `no stored event is "${this.id}" (give provider:eventId, e.g. stripe:evt_123, or its seq)`;
  }
}
export class EndpointNotFound extends Data.TaggedError("EndpointNotFound")<{ readonly id: string }> {
  readonly status = 404;
  readonly code = "endpoint_not_found";
  override get message() {
    return `no webhook endpoint has the id "${this.id}"`;
  }
}
export class LeaseNotFound extends Data.TaggedError("LeaseNotFound")<{ readonly leaseId: string }> {
  readonly status = 404;
  readonly code = "lease_not_found";
  override get message() {
    return `no lease has the id "${this.leaseId}"`;
  }
}

/** Why an activation code's exchange, a refresh or a revocation was refused (server/activations.ts). */
export class ActivationRefused extends Data.TaggedError("ActivationRefused")<{ readonly status: number; readonly code: string; readonly message: string }> {}

// Refusals of a webhook delivery; ingest counts each (see store/rejections.ts).
export class ProviderNotSupported extends Data.TaggedError("ProviderNotSupported")<{ readonly provider: string }> {
  readonly status = 404;
  readonly code = "provider_not_supported";
  override get message() {
    return `webhooks from ${this.provider} are not supported yet`;
  }
}
/** A provider whose signing secret is not set: nothing it sends can be verified, so nothing is stored. */
export class ProviderNotConfigured extends Data.TaggedError("ProviderNotConfigured")<{ readonly message: string }> {
  readonly status = 503;
  readonly code = "provider_not_configured";
}
export class SignatureRefused extends Data.TaggedError("SignatureRefused")<{ readonly code: VerifyFailure["code"]; readonly message: string }> {
  readonly status = 400;
}
export class InvalidJson extends Data.TaggedError("InvalidJson")<{ readonly message: string }> {
  readonly status = 400;
  readonly code = "invalid_json";
}
/** A verified JSON body whose envelope cannot be read, or whose time no Date can hold. */
export class InvalidEvent extends Data.TaggedError("InvalidEvent")<{ readonly message: string }> {
  readonly status = 400;
  readonly code = "invalid_event";
}

export type WebhookRefused = ProviderNotSupported | PayloadTooLarge | ProviderNotConfigured | SignatureRefused | InvalidJson | InvalidEvent;

export type UsageRefused = UnknownFeature | NotMetered | NoEntitlement | QuotaExceeded | ConcurrencyExceeded | LeaseNotFound | InsufficientCredits;

export type Refused = Unauthorized | InvalidApiKey | Forbidden | RouteNotFound | UserNotFound | EventNotFound | EndpointNotFound | ActivationRefused | UnknownProvider | MethodNotAllowed | InvalidParameter | WebhookRefused | UsageRefused;

/** What a request is answered with. */
export type Answer = { readonly status: number; readonly body: unknown };

export const ok = (body: unknown): Answer => ({ status: 200, body });

/** The body of a refusal: Verity's error shape (GraphQL's gate adds GraphQL's). */
export type RefusalBody = (e: Refused) => unknown;

export const errorBody: RefusalBody = (e) => ({ error: { code: e.code, message: e.message, ...(e._tag === "QuotaExceeded" || e._tag === "ConcurrencyExceeded" || e._tag === "InsufficientCredits" ? e.details : {}) } });

/** A refused request answered: its status, and `body` for its code and message. */
export const answerOf = <E extends Refused>(program: Effect.Effect<Answer, E>, body: RefusalBody = errorBody): Effect.Effect<Answer> =>
  Effect.catchAll(program, (e: Refused) => Effect.succeed({ status: e.status, body: body(e) }));

/** The answer to a decided request (run synchronously: an Either needs no fiber). */
export const answerNow = <E extends Refused>(decided: Effect.Effect<Answer, E>, body?: RefusalBody): Answer => Effect.runSync(answerOf(decided, body));

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
};

export const send = (res: ServerResponse, answer: Answer): void => sendJson(res, answer.status, answer.body);
