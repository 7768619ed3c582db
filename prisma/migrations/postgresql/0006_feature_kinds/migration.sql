-- AlterTable
ALTER TABLE "Entitlement" ADD COLUMN     "concurrent" INTEGER,
ADD COLUMN     "decimals" INTEGER,
ADD COLUMN     "leaseSeconds" INTEGER,
ADD COLUMN     "value" DOUBLE PRECISION;

