-- CreateTable
CREATE TABLE "Component" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "watermark" DATETIME NOT NULL,
    "events" INTEGER NOT NULL,
    "state" TEXT,
    "stateToken" TEXT,
    "stateEvents" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "ComponentKey" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "componentId" TEXT NOT NULL
);

-- CreateIndex
CREATE INDEX "ComponentKey_componentId_idx" ON "ComponentKey"("componentId");

