-- The active query takes unpaid payments in turns: least recently queried first, so abandoned
-- payments (a day of them) never keep a new one from being looked at.
ALTER TABLE payment_info ADD COLUMN last_queried_at timestamptz;
DROP INDEX payment_info_unpaid_by_age;
CREATE INDEX payment_info_unpaid_by_turn ON payment_info (last_queried_at NULLS FIRST, create_time) WHERE payment_status = 0;
