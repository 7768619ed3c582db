-- CreateTable
CREATE TABLE "ComponentState" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "events" INTEGER NOT NULL,
    "state" TEXT NOT NULL
);

-- The saved states move to their own table.
INSERT INTO "ComponentState" ("id", "token", "events", "state")
SELECT "id", "stateToken", "stateEvents", "state" FROM "Component" WHERE "state" IS NOT NULL AND "stateToken" IS NOT NULL;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Component" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "watermark" DATETIME NOT NULL,
    "events" INTEGER NOT NULL
);
INSERT INTO "new_Component" ("events", "id", "token", "watermark") SELECT "events", "id", "token", "watermark" FROM "Component";
DROP TABLE "Component";
ALTER TABLE "new_Component" RENAME TO "Component";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

