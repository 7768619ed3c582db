-- CreateTable
CREATE TABLE "ServerProcess" (
    "id" TEXT NOT NULL,
    "catalog" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "seenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ServerProcess_pkey" PRIMARY KEY ("id")
);

