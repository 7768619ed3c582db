-- CreateTable
CREATE TABLE "CreditUse" (
    "subject" TEXT NOT NULL,
    "lot" TEXT NOT NULL,
    "used" INTEGER NOT NULL,

    CONSTRAINT "CreditUse_pkey" PRIMARY KEY ("subject","lot")
);

-- CreateTable
CREATE TABLE "CreditDebit" (
    "usageId" TEXT NOT NULL,
    "lot" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "bucket" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "feature" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CreditDebit_pkey" PRIMARY KEY ("usageId","lot")
);

-- CreateIndex
CREATE INDEX "CreditDebit_subject_at_idx" ON "CreditDebit"("subject", "at");

