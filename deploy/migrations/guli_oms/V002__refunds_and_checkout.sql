-- Refunded (6) is an order status; an order knows when it closes if unpaid (Alipay's trade
-- expires then too) and when it was refunded.
ALTER TABLE oms_order DROP CONSTRAINT oms_order_status_check;
ALTER TABLE oms_order ADD CONSTRAINT oms_order_status_check CHECK (status BETWEEN 0 AND 6);
ALTER TABLE oms_order ADD COLUMN pay_deadline timestamptz;
ALTER TABLE oms_order ADD COLUMN refund_time timestamptz;

-- The checkout API (POST /oms/orders): one row per order token, written before the stock is
-- locked, so a retried call reuses the order number (the lock is idempotent on it) and answers
-- what the first call came to. state: 0 locking, 1 placed, 2 refused (shortage), 3 abandoned.
CREATE TABLE oms_checkout (
    order_token  varchar(64)  PRIMARY KEY,
    order_sn     varchar(64)  NOT NULL UNIQUE,
    member_id    bigint       NOT NULL,
    request      text         NOT NULL,
    state        smallint     NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2, 3)),
    created_at   timestamptz  NOT NULL DEFAULT now()
);
-- Checkout order numbers: 'N' + the day + this sequence (flash-sale numbers are all digits).
CREATE SEQUENCE oms_order_number;

-- Money that arrived for a closed order now goes back by itself (payment.refund). What was set
-- aside for an operator before goes the same way once.
INSERT INTO outbox (message_id, routing_key, payload)
SELECT 'payment.refund:' || d.order_sn, 'payment.refund',
       json_build_object('orderSn', d.order_sn, 'amount', to_char(o.pay_amount, 'FM9999999999999990.00'), 'reason', 'closedOrder')::text
FROM oms_refund_due d JOIN oms_order o ON o.order_sn = d.order_sn
ON CONFLICT (message_id) DO NOTHING;
DROP TABLE oms_refund_due;
