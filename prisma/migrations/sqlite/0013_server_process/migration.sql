-- CreateTable
CREATE TABLE "ServerProcess" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "catalog" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "seenAt" DATETIME NOT NULL
);

