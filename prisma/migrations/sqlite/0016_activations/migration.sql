-- CreateTable
CREATE TABLE "ActivationCode" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "subject" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "issuedAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "tokenSeconds" INTEGER NOT NULL,
    "redeemedAt" DATETIME,
    "activationId" TEXT
);

-- CreateTable
CREATE TABLE "Activation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subject" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "codeHash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "tokenSeconds" INTEGER NOT NULL,
    "refreshHash" TEXT NOT NULL,
    "refreshExpiresAt" DATETIME NOT NULL,
    "lastRefreshedAt" DATETIME,
    "rotations" INTEGER NOT NULL,
    "revokedAt" DATETIME,
    "revokedReason" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "Activation_refreshHash_key" ON "Activation"("refreshHash");

-- CreateIndex
CREATE INDEX "Activation_subject_idx" ON "Activation"("subject");

