-- CreateTable
CREATE TABLE "ComponentState" (
    "id" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "events" INTEGER NOT NULL,
    "state" TEXT NOT NULL,

    CONSTRAINT "ComponentState_pkey" PRIMARY KEY ("id")
);

-- The saved states move to their own table.
INSERT INTO "ComponentState" ("id", "token", "events", "state")
SELECT "id", "stateToken", "stateEvents", "state" FROM "Component" WHERE "state" IS NOT NULL AND "stateToken" IS NOT NULL;

-- AlterTable
ALTER TABLE "Component" DROP COLUMN "state",
DROP COLUMN "stateEvents",
DROP COLUMN "stateToken";
