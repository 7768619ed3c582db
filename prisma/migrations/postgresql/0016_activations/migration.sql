-- CreateTable
CREATE TABLE "ActivationCode" (
    "hash" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "issuedAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "tokenSeconds" INTEGER NOT NULL,
    "redeemedAt" TIMESTAMP(3),
    "activationId" TEXT,

    CONSTRAINT "ActivationCode_pkey" PRIMARY KEY ("hash")
);

-- CreateTable
CREATE TABLE "Activation" (
    "id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "codeHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "tokenSeconds" INTEGER NOT NULL,
    "refreshHash" TEXT NOT NULL,
    "refreshExpiresAt" TIMESTAMP(3) NOT NULL,
    "lastRefreshedAt" TIMESTAMP(3),
    "rotations" INTEGER NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "revokedReason" TEXT,

    CONSTRAINT "Activation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Activation_refreshHash_key" ON "Activation"("refreshHash");

-- CreateIndex
CREATE INDEX "Activation_subject_idx" ON "Activation"("subject");

