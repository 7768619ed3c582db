-- CreateTable
CREATE TABLE "Component" (
    "id" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "watermark" TIMESTAMP(3) NOT NULL,
    "events" INTEGER NOT NULL,
    "state" TEXT,
    "stateToken" TEXT,
    "stateEvents" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "Component_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ComponentKey" (
    "key" TEXT NOT NULL,
    "componentId" TEXT NOT NULL,

    CONSTRAINT "ComponentKey_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ComponentKey_componentId_idx" ON "ComponentKey"("componentId");

