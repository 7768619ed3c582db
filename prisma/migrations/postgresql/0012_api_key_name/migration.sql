-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "name" TEXT;

