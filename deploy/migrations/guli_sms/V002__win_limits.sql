-- PostgreSQL, not only Redis, holds a buyer to the session's limit: a win that would take a buyer
-- past `buyer_limit` (counting their wins not released) is not inserted. The trigger skips the row
-- (returns NULL) instead of raising, so one refused win never fails the other wins of its batch
-- (the writer reads which rows went in from RETURNING). Wins of one buyer in one session are
-- serialised by an advisory lock, so two concurrent batches cannot both pass the check.
CREATE INDEX sms_seckill_win_buyer ON sms_seckill_win (session_id, user_id) WHERE NOT released;

CREATE FUNCTION sms_seckill_win_within_limit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    allowed integer;
    held integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('sms_seckill_win:' || NEW.session_id || ':' || NEW.user_id, 0));
    SELECT buyer_limit INTO allowed FROM sms_seckill_session WHERE id = NEW.session_id;
    IF allowed IS NULL THEN
        RETURN NEW;  -- no such session: the foreign key refuses it
    END IF;
    SELECT coalesce(sum(count), 0) INTO held FROM sms_seckill_win
    WHERE session_id = NEW.session_id AND user_id = NEW.user_id AND NOT released;
    IF held + NEW.count > allowed THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER sms_seckill_win_within_limit BEFORE INSERT ON sms_seckill_win
    FOR EACH ROW EXECUTE FUNCTION sms_seckill_win_within_limit();
