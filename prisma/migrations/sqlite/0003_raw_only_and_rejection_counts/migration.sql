-- An event whose body cannot be given a parsed copy is kept raw only, with the reason.
ALTER TABLE "Event" ADD COLUMN "rawOnlyReason" TEXT;

-- Rejected deliveries are counted per provider, reason and minute.
ALTER TABLE "RejectedDelivery" ADD COLUMN "firstReceivedAt" DATETIME;
ALTER TABLE "RejectedDelivery" ADD COLUMN "count" INTEGER NOT NULL DEFAULT 1;
