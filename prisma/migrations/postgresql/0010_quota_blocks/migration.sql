-- CreateTable
CREATE TABLE "QuotaBlock" (
    "subject" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "userId" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "lastAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QuotaBlock_pkey" PRIMARY KEY ("subject","feature","code","minute")
);

-- CreateIndex
CREATE INDEX "QuotaBlock_minute_idx" ON "QuotaBlock"("minute");

