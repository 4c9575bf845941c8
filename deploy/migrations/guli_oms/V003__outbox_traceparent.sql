-- The W3C trace context of the transaction that wrote the message, so the relay's publish carries
-- it and the consumer continues that trace (null when tracing is off).
ALTER TABLE outbox ADD COLUMN traceparent text;
