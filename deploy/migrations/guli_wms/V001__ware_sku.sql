CREATE TABLE wms_ware_sku (
    id            bigserial PRIMARY KEY,
    sku_id        bigint       NOT NULL,
    ware_id       bigint       NOT NULL DEFAULT 1,
    sku_name      varchar(256) NOT NULL DEFAULT '',
    stock         integer      NOT NULL CHECK (stock >= 0),
    stock_locked  integer      NOT NULL DEFAULT 0 CHECK (stock_locked >= 0),
    sales         integer      NOT NULL DEFAULT 0 CHECK (sales >= 0),
    CHECK (stock_locked <= stock),
    UNIQUE (sku_id, ware_id)
);

-- The durable per-order stock lock: status 0 locked, 1 used (sold), 2 released.
CREATE TABLE wms_stock_lock (
    order_sn    varchar(64) NOT NULL,
    sku_id      bigint      NOT NULL,
    ware_id     bigint      NOT NULL,
    count       integer     NOT NULL CHECK (count > 0),
    status      smallint    NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    reservation_id bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_sn, sku_id, ware_id)
);

-- Stock set aside for a flash-sale session: taken from free stock into stock_locked when the
-- session opens; each flash-sale order's lock is carved from `remaining`, which never goes below
-- zero (the last guard against overselling); on release the unsold rest goes back.
CREATE TABLE wms_reservation (
    id          bigserial   PRIMARY KEY,
    key         varchar(64) NOT NULL UNIQUE,
    sku_id      bigint      NOT NULL,
    ware_id     bigint      NOT NULL,
    reserved    integer     NOT NULL CHECK (reserved > 0),
    remaining   integer     NOT NULL CHECK (remaining >= 0),
    released    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
