-- The event store is append-only: the database itself refuses updates, deletes and truncation.
CREATE FUNCTION "verity_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$;

CREATE TRIGGER "Event_append_only" BEFORE UPDATE OR DELETE ON "Event"
  FOR EACH ROW EXECUTE FUNCTION "verity_refuse_change"();
CREATE TRIGGER "Event_no_truncate" BEFORE TRUNCATE ON "Event"
  FOR EACH STATEMENT EXECUTE FUNCTION "verity_refuse_change"();
