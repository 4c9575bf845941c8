-- A session's random code (随机码), revealed by the public list only once the session starts;
-- a buy must carry it. NULL: no code (sessions opened before, or opened with requireCode false).
-- challenge_bits: the proof-of-work a buy must carry (leading zero bits of SHA-256); 0 = none.
ALTER TABLE sms_seckill_session ADD COLUMN code varchar(32);
ALTER TABLE sms_seckill_session ADD COLUMN challenge_bits smallint NOT NULL DEFAULT 0 CHECK (challenge_bits BETWEEN 0 AND 32);
