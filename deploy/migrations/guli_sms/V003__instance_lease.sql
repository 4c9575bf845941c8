-- Order numbers carry a 10-bit instance id. Each running seckill instance holds its id as a lease
-- here (renewed while it runs, refused to anyone else until it expires), so two live instances
-- never share one, however many times instances restart, and losing Redis changes nothing.
CREATE TABLE sms_instance_lease (
    instance    integer     PRIMARY KEY CHECK (instance BETWEEN 0 AND 1023),
    holder      uuid        NOT NULL,
    expires_at  timestamptz NOT NULL
);
