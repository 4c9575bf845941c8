-- Seed data for the local cluster (psql -v ON_ERROR_STOP=1 -f, per database; safe to re-run): three
-- fixed orders to open pay.html on right away (README), their stock and locks, two members.
-- deploy/local/demo makes its own orders the way a shop does: a flash sale, and oms's checkout
-- API (POST /oms/orders).
\if :{?oms}
INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth, source_type)
VALUES ('202611250000000001', 1001, 0, 1999.9000, 1999.9000, 1999, 1999, 0),
       ('202611250000000002', 1001, 0, 6299.0000, 6199.0000, 6199, 6199, 0),
       ('202611250000000003', 1002, 0, 0.0100, 0.0100, 0, 0, 0)
ON CONFLICT (order_sn) DO NOTHING;
INSERT INTO oms_order_item (order_id, order_sn, sku_id, sku_name, sku_price, sku_quantity)
SELECT o.id, o.order_sn, i.sku_id, i.sku_name, i.sku_price, i.sku_quantity
FROM (VALUES ('202611250000000001', 1, '华为 Mate 60 Pro 12GB+512GB', 1999.9000, 1),
             ('202611250000000002', 2, 'Apple iPhone 15 256GB', 5999.0000, 1),
             ('202611250000000002', 3, '小米 充电器 65W', 150.0000, 2),
             ('202611250000000003', 4, '谷粒 测试商品', 0.0100, 1)) AS i(order_sn, sku_id, sku_name, sku_price, sku_quantity)
JOIN oms_order o ON o.order_sn = i.order_sn
WHERE NOT EXISTS (SELECT 1 FROM oms_order_item x WHERE x.order_sn = i.order_sn AND x.sku_id = i.sku_id);
\endif
\if :{?wms}
INSERT INTO wms_ware_sku (sku_id, ware_id, sku_name, stock, stock_locked, sales)
VALUES (1, 1, '华为 Mate 60 Pro 12GB+512GB', 100, 1, 0), (2, 1, 'Apple iPhone 15 256GB', 100, 1, 0),
       (3, 1, '小米 充电器 65W', 500, 2, 0), (4, 1, '谷粒 测试商品', 10, 1, 0), (5, 1, '秒杀 爆款耳机', 1000, 0, 0)
ON CONFLICT (sku_id, ware_id) DO NOTHING;
INSERT INTO wms_stock_lock (order_sn, sku_id, ware_id, count)
VALUES ('202611250000000001', 1, 1, 1), ('202611250000000002', 2, 1, 1), ('202611250000000002', 3, 1, 2),
       ('202611250000000003', 4, 1, 1)
ON CONFLICT DO NOTHING;
\endif
\if :{?ums}
INSERT INTO ums_member (id, username) VALUES (1001, 'buyer1001'), (1002, 'buyer1002') ON CONFLICT (id) DO NOTHING;
\endif
