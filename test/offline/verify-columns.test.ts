// Verify compares every column the projections hold. The projector's rows and the replay's come
// from one mapping (src/store/projection-rows.ts); these checks hold the rest of the path to it:
//   - every column of every projection table in the schema is one the rows fill (none left to a
//     default, none the comparison never reads);
//   - a value changed by hand in any one column of the database is a difference verify reports,
//     on that row and that column (a key column: the row is only on one side).
// Each forgery is rolled back before the next, on SQLite and on PostgreSQL.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffSnapshots, type Difference } from "../../src/offline/diff.js";
import type { Entity } from "../../src/store/projection-rows.js";
import { replay } from "../../src/offline/replay.js";
import { databaseSnapshot, type Snapshot } from "../../src/offline/snapshot.js";
import { snapshotOf } from "../../src/offline/verify.js";
import type { Database } from "../../src/store/database.js";
import { sqlOf } from "../../src/store/sql.js";
import { getDatamodel } from "../../src/store/generated/pothos-types.js";
import { PROJECTION_COLUMNS, type ProjectionRows } from "../../src/store/projection-rows.js";
import { arbHistory, PRICES, testCatalog, type OneTimeScript } from "../builders/histories.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { exportLines, ingest } from "./support.js";

type Table = {
  readonly model: string;
  readonly delegate: "user" | "userIdentity" | "subscription" | "order" | "entitlement" | "transition";
  readonly rows: keyof ProjectionRows;
  readonly entity: Entity;
  /** The columns a difference is keyed by (see diff.ts): changing one moves the row. */
  readonly keyedBy: readonly string[];
};

const TABLES: readonly Table[] = [
  { model: "User", delegate: "user", rows: "users", entity: "user", keyedBy: ["id"] },
  { model: "UserIdentity", delegate: "userIdentity", rows: "identities", entity: "identity", keyedBy: ["key"] },
  { model: "Subscription", delegate: "subscription", rows: "subscriptions", entity: "subscription", keyedBy: ["id"] },
  { model: "Order", delegate: "order", rows: "orders", entity: "order", keyedBy: ["id"] },
  { model: "Entitlement", delegate: "entitlement", rows: "grants", entity: "grant", keyedBy: ["id"] },
  { model: "Transition", delegate: "transition", rows: "transitions", entity: "transition", keyedBy: ["userId", "ordinal"] },
];

/**
 * The one column verify does not compare: a transition's id is `${userId}:${ordinal}`, and
 * transitions are compared by those two (the snapshot leaves the id out to keep its shape).
 */
const NOT_COMPARED = new Set(["Transition.id"]);

type Field = { readonly name: string; readonly type: string; readonly isId: boolean };

const scalarFields = (model: string): Field[] =>
  getDatamodel()
    .datamodel.models[model]!.fields.filter((f) => f.kind === "scalar")
    .map((f) => ({ name: f.name, type: f.type, isId: f.isId }));

// Two users, a subscription and a Lifetime purchase that is not refunded in full: a row in every
// table (grants included), and a second user for a foreign key to point at.
const keepsLifetime = (o: OneTimeScript | null): boolean => o?.priceId === PRICES.lifetime && (o.refund === "none" || o.refund === "partial");
const history = fc.sample(
  arbHistory.filter((h) => h.scripts.length >= 2 && h.scripts.some((s) => s.subscription !== null) && h.scripts.some((s) => keepsLifetime(s.oneTime))),
  { seed: 20240715, numRuns: 1 },
)[0]!;

type Row = Record<string, unknown>;

/** A different value for `field` of `row`. */
const forge = (field: Field, row: Row, otherUser: string): unknown => {
  const v = row[field.name];
  if (field.name === "userId") return otherUser;
  switch (field.type) {
    case "String":
      return v === null ? "forged" : `${String(v)}~`;
    case "Int":
      return v === null ? 1 : Number(v) + 1000;
    case "Float":
      return v === null ? 1.5 : Number(v) + 0.5;
    case "Boolean":
      return !v;
    case "DateTime":
      return v === null ? new Date(0) : new Date((v as Date).getTime() + 1000);
    default:
      throw new Error(`no forgery for a ${field.type} column (${field.name})`);
  }
};

const asSnapshotted = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);

class Rollback extends Error {}

/** The snapshot of `db` with one column of one row forged (an id column: a copy of the row under a new id); nothing stays changed. */
const forgedSnapshot = async (db: Database, table: Table, field: Field, row: Row, forged: unknown): Promise<Snapshot> => {
  let seen: Snapshot | null = null;
  await db.prisma
    .$transaction(async (tx) => {
      // The delegates differ only in their row types; each gets its own table's row.
      const delegate = tx[table.delegate] as unknown as {
        create: (a: { data: Row }) => Promise<unknown>;
        updateMany: (a: { where: Row; data: Row }) => Promise<{ count: number }>;
      };
      if (field.isId) await delegate.create({ data: { ...row, [field.name]: forged } });
      else {
        const where = Object.fromEntries(scalarFields(table.model).filter((f) => f.isId).map((f) => [f.name, row[f.name]]));
        expect((await delegate.updateMany({ where, data: { [field.name]: forged } })).count).toBe(1);
      }
      seen = await databaseSnapshot(sqlOf(db, tx));
      throw new Rollback();
    })
    .catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return seen!;
};

const rowId = (table: Table, row: Row): string =>
  table.entity === "transition" ? `${String(row["userId"])}#${String(row["ordinal"])}` : String(row[table.keyedBy[0]!]);

describe("every projection column", () => {
  it("is a column of the projection rows, and the rows have no other", () => {
    for (const table of TABLES) {
      expect(scalarFields(table.model).map((f) => f.name).sort(), table.model).toEqual(Object.keys(PROJECTION_COLUMNS[table.rows]).sort());
    }
  });

  describe.each(KINDS)("on %s, changed by hand in the database", (kind) => {
    let db: Database;
    let close: () => Promise<void>;
    let replayed: Snapshot;
    beforeAll(async () => {
      ({ db, close } = await openTestDatabase(kind));
      await ingest(db, history.events);
      replayed = snapshotOf(await replay(await exportLines(db), testCatalog, { at: 0 }));
      expect(diffSnapshots(await databaseSnapshot(db), replayed)).toEqual([]);
    }, 120_000);
    afterAll(async () => close());

    it.each(TABLES.map((t) => [t.model, t] as const))("%s: is a difference verify reports", async (_model, table) => {
      const delegate = db.prisma[table.delegate] as unknown as { findFirst: (a: object) => Promise<Row | null> };
      const row = await delegate.findFirst({ orderBy: { [scalarFields(table.model).find((f) => f.isId)!.name]: "asc" } });
      expect(row, `a ${table.model} row to forge`).not.toBeNull();
      const otherUser = replayed.users.find((u) => u.id !== row!["userId"])?.id;
      expect(otherUser, "a second user").toBeDefined();
      for (const field of scalarFields(table.model)) {
        if (NOT_COMPARED.has(`${table.model}.${field.name}`)) continue;
        const forged = forge(field, row!, otherUser!);
        const differences: Difference[] = diffSnapshots(await forgedSnapshot(db, table, field, row!, forged), replayed);
        const where = `${table.model}.${field.name} forged to ${JSON.stringify(forged)}`;
        if (field.isId || table.keyedBy.includes(field.name)) {
          expect(differences.filter((d) => d.entity === table.entity && d.field === null), where).not.toEqual([]);
        } else {
          expect(differences, where).toContainEqual({
            entity: table.entity,
            id: rowId(table, row!),
            field: field.name,
            left: asSnapshotted(forged),
            right: asSnapshotted(row![field.name]),
          });
        }
      }
      // The forgeries were rolled back.
      expect(diffSnapshots(await databaseSnapshot(db), replayed)).toEqual([]);
    }, 120_000);
  });
});
