-- A session's release counts the locks carved from its reservation: without this index each
-- count read the whole lock table (seen after a benchmark left 700,000 locks: a release took
-- ~100 ms, and the keeper's tick, which releases before it reconciles, took longer than the
-- repair of a Redis that lost its last second may wait).
CREATE INDEX wms_stock_lock_reservation ON wms_stock_lock (reservation_id) WHERE reservation_id IS NOT NULL;
