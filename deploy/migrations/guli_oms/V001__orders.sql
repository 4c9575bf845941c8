CREATE TABLE oms_order (
    id             bigserial PRIMARY KEY,
    order_sn       varchar(64)   NOT NULL UNIQUE,
    member_id      bigint        NOT NULL,
    status         smallint      NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 5),
    total_amount   numeric(18,4) NOT NULL CHECK (total_amount >= 0),
    pay_amount     numeric(18,4) NOT NULL CHECK (pay_amount >= 0),
    integration    bigint        NOT NULL DEFAULT 0,
    growth         bigint        NOT NULL DEFAULT 0,
    source_type    smallint      NOT NULL DEFAULT 0,            -- 0 normal, 1 flash sale
    session_id     bigint,
    create_time    timestamptz   NOT NULL DEFAULT now(),
    payment_time   timestamptz,
    close_time     timestamptz,
    modify_time    timestamptz   NOT NULL DEFAULT now()
);
CREATE TABLE oms_order_item (
    id            bigserial PRIMARY KEY,
    order_id      bigint        NOT NULL REFERENCES oms_order (id),
    order_sn      varchar(64)   NOT NULL,
    sku_id        bigint        NOT NULL,
    sku_name      varchar(256)  NOT NULL,
    sku_price     numeric(18,4) NOT NULL CHECK (sku_price >= 0),
    sku_quantity  integer       NOT NULL CHECK (sku_quantity > 0)
);
CREATE INDEX oms_order_item_order ON oms_order_item (order_id);

-- A payment that arrived for a closed order: kept for a refund by an operator.
CREATE TABLE oms_refund_due (
    order_sn   varchar(64) PRIMARY KEY,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

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
