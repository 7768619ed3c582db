-- CreateTable
CREATE TABLE "CreditUse" (
    "subject" TEXT NOT NULL,
    "lot" TEXT NOT NULL,
    "used" INTEGER NOT NULL,

    PRIMARY KEY ("subject", "lot")
);

-- CreateTable
CREATE TABLE "CreditDebit" (
    "usageId" TEXT NOT NULL,
    "lot" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "bucket" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "feature" TEXT NOT NULL,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("usageId", "lot")
);

-- CreateIndex
CREATE INDEX "CreditDebit_subject_at_idx" ON "CreditDebit"("subject", "at");

