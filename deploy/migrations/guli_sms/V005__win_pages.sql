-- The keeper's reconcile reads a session's wins a page at a time, in order-number order: each page
-- is a range of this index, not a sort of the whole session.
CREATE INDEX sms_seckill_win_pages ON sms_seckill_win (session_id, order_sn) WHERE NOT released;
