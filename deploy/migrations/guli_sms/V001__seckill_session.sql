CREATE TABLE sms_seckill_session (
    id           bigserial PRIMARY KEY,
    sku_id       bigint        NOT NULL,
    sku_name     varchar(256)  NOT NULL DEFAULT '',
    price        numeric(18,4) NOT NULL CHECK (price > 0),
    stock        integer       NOT NULL CHECK (stock > 0),
    buyer_limit  integer       NOT NULL DEFAULT 1 CHECK (buyer_limit > 0),
    start_time   timestamptz   NOT NULL,
    end_time     timestamptz   NOT NULL CHECK (end_time > start_time),
    created_at   timestamptz   NOT NULL DEFAULT now()
);
