CREATE TABLE ums_member (
    id           bigint PRIMARY KEY,
    username     varchar(64) NOT NULL DEFAULT '',
    integration  bigint      NOT NULL DEFAULT 0,
    growth       bigint      NOT NULL DEFAULT 0
);
-- One credit per order: a redelivered bound.plus hits the primary key and does nothing.
CREATE TABLE ums_points_history (
    order_sn     varchar(64) PRIMARY KEY,
    member_id    bigint      NOT NULL,
    integration  bigint      NOT NULL,
    growth       bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
