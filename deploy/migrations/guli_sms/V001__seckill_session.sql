-- A flash-sale session for one sku. Opening it reserves `stock` in wms under `reservation_key`.
CREATE TABLE sms_seckill_session (
    id               bigserial PRIMARY KEY,
    sku_id           bigint        NOT NULL,
    sku_name         varchar(256)  NOT NULL DEFAULT '',
    price            numeric(18,4) NOT NULL CHECK (price > 0),
    stock            integer       NOT NULL CHECK (stock > 0),
    buyer_limit      integer       NOT NULL DEFAULT 1 CHECK (buyer_limit > 0),
    start_time       timestamptz   NOT NULL,
    end_time         timestamptz   NOT NULL CHECK (end_time > start_time),
    reservation_key  varchar(64),
    reserved         boolean       NOT NULL DEFAULT false,
    released         boolean       NOT NULL DEFAULT false,  -- ended and its unsold rest returned to wms
    created_at       timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (sku_id, start_time)
);

-- Every permit taken (a win), written before sec.kill is published. Redis is rebuilt from here:
-- permits = stock - wins not released; a buyer's count = their wins not released.
CREATE TABLE sms_seckill_win (
    order_sn    varchar(64) PRIMARY KEY,
    session_id  bigint      NOT NULL REFERENCES sms_seckill_session (id),
    sku_id      bigint      NOT NULL,
    user_id     bigint      NOT NULL,
    count       integer     NOT NULL CHECK (count > 0),
    released    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_seckill_win_session ON sms_seckill_win (session_id) WHERE NOT released;
