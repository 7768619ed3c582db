-- The event store is append-only: the database itself refuses updates and deletes.
CREATE TRIGGER "Event_refuse_update" BEFORE UPDATE ON "Event"
BEGIN SELECT RAISE(ABORT, 'append-only: UPDATE on Event refused'); END;

CREATE TRIGGER "Event_refuse_delete" BEFORE DELETE ON "Event"
BEGIN SELECT RAISE(ABORT, 'append-only: DELETE on Event refused'); END;
