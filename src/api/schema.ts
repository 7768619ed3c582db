// The read-only GraphQL schema: importing the type modules registers them on the builder.
import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.js";
import "./schema/dashboard.js";
import "./schema/entitlement.js";
import "./schema/event.js";
import "./schema/live.js";
import "./schema/plans.js";
import "./schema/rejection.js";
import "./schema/subscription.js";
import "./schema/transition.js";
import "./schema/user.js";
import "./schema/webhooks-out.js";

export const schema = builder.toSchema();

export const printedSchema = (): string => `${printSchema(lexicographicSortSchema(schema))}\n`;
