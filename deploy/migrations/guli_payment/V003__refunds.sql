-- A payment whose Alipay trade was closed unpaid (its order closed): 2. The active query skips it.
ALTER TABLE payment_info DROP CONSTRAINT payment_info_payment_status_check;
ALTER TABLE payment_info ADD CONSTRAINT payment_info_payment_status_check CHECK (payment_status IN (0, 1, 2));

-- The refund ledger: one row per refund request (out_request_no, Alipay's idempotency key), its
-- state and amounts. state: 0 requested (alipay.trade.refund to send), 1 sent (Alipay accepted it;
-- fastpay.refund.query to confirm), 2 confirmed, 3 refused by Alipay (an operator reads why).
CREATE TABLE payment_refund (
    id               bigserial     PRIMARY KEY,
    out_trade_no     varchar(64)   NOT NULL REFERENCES payment_info (out_trade_no),
    out_request_no   varchar(64)   NOT NULL UNIQUE,
    amount           numeric(18,2) NOT NULL CHECK (amount > 0),
    reason           varchar(32)   NOT NULL,
    state            smallint      NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2, 3)),
    attempts         integer       NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz   NOT NULL DEFAULT now(),
    last_error       text,
    refunded_amount  numeric(18,2),
    confirmed_by     varchar(16),
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    confirmed_at     timestamptz
);
CREATE INDEX payment_refund_due ON payment_refund (next_attempt_at) WHERE state IN (0, 1);
