-- PostgreSQL, not only Redis, holds every win to the sale's rules, so a Redis that forgot wins (a
-- lost last second of AOF) can never make a buyer hear "success" for a unit that is not there:
-- a win that would take a buyer past `buyer_limit` (counting their wins not released) or the
-- session past its stock (`sold`, the units of its wins not released) is not inserted, and
-- neither is an order number already taken. The trigger skips the row (returns NULL) instead of
-- raising, so one refused win never fails the other wins of its batch (the writer reads which
-- rows went in from RETURNING). Wins of one buyer in one session are serialised by an advisory
-- lock and the session count by the session row's lock, so concurrent batches cannot both pass.
CREATE INDEX sms_seckill_win_buyer ON sms_seckill_win (session_id, user_id) WHERE NOT released;

ALTER TABLE sms_seckill_session ADD COLUMN sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0);
UPDATE sms_seckill_session s
SET sold = coalesce((SELECT sum(count) FROM sms_seckill_win w WHERE w.session_id = s.id AND NOT w.released), 0);

CREATE FUNCTION sms_seckill_win_within_limit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    allowed integer;
    held integer;
BEGIN
    -- A number already taken is skipped before anything is counted (the writer reports it).
    IF EXISTS (SELECT 1 FROM sms_seckill_win WHERE order_sn = NEW.order_sn) THEN
        RETURN NULL;
    END IF;
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
    UPDATE sms_seckill_session SET sold = sold + NEW.count WHERE id = NEW.session_id AND sold + NEW.count <= stock;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER sms_seckill_win_within_limit BEFORE INSERT ON sms_seckill_win
    FOR EACH ROW EXECUTE FUNCTION sms_seckill_win_within_limit();

-- A released win gives its units back to the session's count.
CREATE FUNCTION sms_seckill_win_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sms_seckill_session SET sold = sold - OLD.count WHERE id = OLD.session_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER sms_seckill_win_released AFTER UPDATE OF released ON sms_seckill_win
    FOR EACH ROW WHEN (NEW.released AND NOT OLD.released) EXECUTE FUNCTION sms_seckill_win_released();
