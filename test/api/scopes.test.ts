// Every root field of the GraphQL schema declares the scopes it needs (scope-auth checks them
// before the resolver runs): a field added without one is a hole this test names.
import type { GraphQLObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/api/schema.js";
import { SCOPES } from "../../src/api/scopes.js";

const rootFields = (type: GraphQLObjectType | null | undefined) => Object.values(type?.getFields() ?? {});

const declared = (extensions: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined =>
  (extensions["pothosOptions"] as { authScopes?: Record<string, unknown> } | undefined)?.authScopes;

describe("GraphQL scopes", () => {
  it("each query and subscription field declares the scope it requires (or says it is public)", () => {
    const fields = [...rootFields(schema.getQueryType()), ...rootFields(schema.getSubscriptionType())];
    expect(fields.length).toBeGreaterThan(5);
    const known = new Set<string>([...SCOPES, "public"]);
    for (const field of fields) {
      const scopes = declared(field.extensions);
      expect(scopes, `${field.name} declares authScopes`).toBeDefined();
      expect(Object.keys(scopes!).every((s) => known.has(s)), `${field.name} names known scopes`).toBe(true);
    }
    const publicFields = fields.filter((f) => declared(f.extensions)?.["public"] === true).map((f) => f.name);
    expect(publicFields).toStrictEqual(["projectedThrough"]);
  });
});
