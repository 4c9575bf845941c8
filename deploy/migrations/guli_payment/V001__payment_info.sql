-- One row per out_trade_no (the order number): a double click or two instances racing reuse it.
CREATE TABLE payment_info (
    id               bigserial PRIMARY KEY,
    out_trade_no     varchar(64)   NOT NULL UNIQUE,
    order_id         bigint        NOT NULL,
    user_id          bigint        NOT NULL,
    payment_type     smallint      NOT NULL DEFAULT 1,            -- 1 alipay
    subject          varchar(256)  NOT NULL,
    total_amount     numeric(18,4) NOT NULL CHECK (total_amount > 0),
    payment_status   smallint      NOT NULL DEFAULT 0 CHECK (payment_status IN (0, 1)),  -- 0 unpaid, 1 paid
    trade_no         varchar(64),
    create_time      timestamptz   NOT NULL DEFAULT now(),
    callback_time    timestamptz,
    callback_content text
);
CREATE INDEX payment_info_unpaid_by_age ON payment_info (create_time) WHERE payment_status = 0;

-- Every verified notify or query result that was recorded (statuses that only need acknowledging too).
CREATE TABLE payment_notification (
    id            bigserial PRIMARY KEY,
    out_trade_no  varchar(64) NOT NULL REFERENCES payment_info (out_trade_no),
    source        varchar(16) NOT NULL,               -- notify | query
    notify_id     varchar(128),
    trade_status  varchar(32) NOT NULL,
    content       text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payment_notification_once ON payment_notification (notify_id) WHERE notify_id IS NOT NULL;

-- Transactional outbox: written in the same transaction as the state change, published by the relay.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    message_id   varchar(128) NOT NULL UNIQUE,
    routing_key  varchar(64)  NOT NULL,
    payload      text         NOT NULL,
    expiration   varchar(16),
    created_at   timestamptz  NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
