-- AlterTable
ALTER TABLE "Entitlement" ADD COLUMN "concurrent" INTEGER;
ALTER TABLE "Entitlement" ADD COLUMN "decimals" INTEGER;
ALTER TABLE "Entitlement" ADD COLUMN "leaseSeconds" INTEGER;
ALTER TABLE "Entitlement" ADD COLUMN "value" REAL;

