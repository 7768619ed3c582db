-- CreateTable
CREATE TABLE "QuotaBlock" (
    "subject" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "minute" DATETIME NOT NULL,
    "userId" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "lastAt" DATETIME NOT NULL,

    PRIMARY KEY ("subject", "feature", "code", "minute")
);

-- CreateIndex
CREATE INDEX "QuotaBlock_minute_idx" ON "QuotaBlock"("minute");

