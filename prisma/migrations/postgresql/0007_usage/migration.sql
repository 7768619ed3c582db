-- AlterTable
ALTER TABLE "TransitionFeed" ADD COLUMN     "keyId" TEXT,
ADD COLUMN     "requestId" TEXT;

-- CreateTable
CREATE TABLE "UsageCounter" (
    "subject" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "periodStart" TIMESTAMP(3) NOT NULL,
    "periodEnd" TIMESTAMP(3),
    "used" BIGINT NOT NULL,
    "records" INTEGER NOT NULL,

    CONSTRAINT "UsageCounter_pkey" PRIMARY KEY ("subject","feature","periodStart")
);

