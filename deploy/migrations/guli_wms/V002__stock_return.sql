-- A sold lock whose order was refunded: its units went back to stock (status 3 returned).
ALTER TABLE wms_stock_lock DROP CONSTRAINT wms_stock_lock_status_check;
ALTER TABLE wms_stock_lock ADD CONSTRAINT wms_stock_lock_status_check CHECK (status IN (0, 1, 2, 3));
