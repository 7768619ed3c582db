-- AlterTable
ALTER TABLE "TransitionFeed" ADD COLUMN "keyId" TEXT;
ALTER TABLE "TransitionFeed" ADD COLUMN "requestId" TEXT;

-- CreateTable
CREATE TABLE "UsageCounter" (
    "subject" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "periodStart" DATETIME NOT NULL,
    "periodEnd" DATETIME,
    "used" BIGINT NOT NULL,
    "records" INTEGER NOT NULL,

    PRIMARY KEY ("subject", "feature", "periodStart")
);

