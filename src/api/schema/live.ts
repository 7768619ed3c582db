// Subscription.transitions: state transitions as they happen, over graphql-sse. Each carries a
// cursor; subscribing again with `after: <cursor>` resumes with nothing missed.
import { GraphQLError } from "graphql";
import { decodeFeedCursor as decode, encodeFeedCursor as encode, type FeedRow } from "../../store/feed.js";
import { builder } from "../builder.js";

export const TransitionEventRef = builder.objectRef<FeedRow>("TransitionEvent").implement({
  description: "A transition as it became known, with the cursor to resume after it.",
  fields: (t) => ({
    cursor: t.string({ resolve: (r) => encode(r.seq) }),
    userId: t.string({
      description: "The app's user id when known, else Verity's id: the same id REST and the other GraphQL fields answer with.",
      // The feed keeps Verity's id (stable while the user exists); the read model maps it in memory.
      resolve: async (r, _args, ctx) => {
        const view = await ctx.reads.user(r.userId);
        return view?.user.appUserId ?? r.userId;
      },
    }),
    entity: t.exposeString("entity"),
    entityId: t.exposeString("entityId"),
    field: t.exposeString("field"),
    from: t.exposeString("from", { nullable: true }),
    to: t.exposeString("to", { nullable: true }),
    at: t.expose("at", { type: "DateTime" }),
    cause: t.exposeString("cause"),
    keyId: t.string({ nullable: true, description: "The API key that sent what caused it (a usage record); null for provider events.", resolve: (r) => r.keyId ?? null }),
    requestId: t.string({ nullable: true, description: "The correlation id (X-Request-Id) of the request that caused it.", resolve: (r) => r.requestId ?? null }),
  }),
});

builder.subscriptionField("transitions", (t) =>
  t.field({
    authScopes: { read: true, dashboard: true },
    type: TransitionEventRef,
    description: "Transitions as they happen; every filter is optional. `after` resumes after a cursor.",
    args: {
      userId: t.arg.string({ description: "The app's user id or a provider customer id." }),
      entity: t.arg.string(),
      field: t.arg.string(),
      after: t.arg.string({ description: "A cursor from an earlier TransitionEvent." }),
    },
    subscribe: async (_root, args, ctx, info) => {
      const after = args.after ? decode(args.after) : null;
      if (args.after && after === null) throw new GraphQLError("after is not a cursor from a TransitionEvent", { extensions: { code: "invalid_parameter" } });
      let userId: string | null = null;
      if (args.userId) {
        userId = await ctx.reads.findUser(args.userId);
        if (userId === null) throw new GraphQLError(`no user is known by the id "${args.userId}"`, { extensions: { code: "user_not_found" } });
      }
      void info;
      const aborter = new AbortController();
      const signal = AbortSignal.any([aborter.signal, ctx.signal]);
      const rows = ctx.live.subscribe({ userId, entity: args.entity ?? null, field: args.field ?? null }, after, signal);
      // Closing the iterator or the client's connection ends the wait at once.
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => rows.next(),
          return: async () => {
            aborter.abort();
            return rows.return(undefined);
          },
        }),
      } as AsyncIterable<FeedRow>;
    },
    resolve: (row) => row,
  }),
);
