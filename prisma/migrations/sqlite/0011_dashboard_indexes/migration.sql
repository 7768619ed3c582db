-- DropIndex
DROP INDEX "Event_receivedAt_idx";

-- CreateIndex
CREATE INDEX "Event_receivedAt_provider_idx" ON "Event"("receivedAt", "provider");

-- CreateIndex
CREATE INDEX "Transition_entity_at_idx" ON "Transition"("entity", "at");

