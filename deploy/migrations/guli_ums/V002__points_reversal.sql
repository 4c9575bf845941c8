-- One reversal per refunded order: a redelivered bound.minus hits the primary key and does nothing.
CREATE TABLE ums_points_reversal (
    order_sn     varchar(64) PRIMARY KEY,
    member_id    bigint      NOT NULL,
    integration  bigint      NOT NULL,
    growth       bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
