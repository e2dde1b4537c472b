-- The orders example's tables, in the database its `postgres` credential names.
-- Idempotent: run it again at any time (scripts/start.sh does, on every start).

CREATE TABLE IF NOT EXISTS orders (
    id              text PRIMARY KEY,            -- the order id from the intake; upserts match on it
    customer_id     bigint NOT NULL,
    customer_email  text,
    customer_name   text,
    country         text,
    shipping        text NOT NULL,
    item_count      integer NOT NULL,
    subtotal        numeric(12,2) NOT NULL,
    discount        numeric(12,2) NOT NULL,
    tax             numeric(12,2) NOT NULL,
    shipping_fee    numeric(12,2) NOT NULL,
    total           numeric(12,2) NOT NULL,
    status          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz,
    notified_at     timestamptz                  -- set when the notifier has sent it
);
-- Room on each page for every row's one update (`notified_at`) in place.
ALTER TABLE orders SET (fillfactor = 50);

CREATE TABLE IF NOT EXISTS order_lines (
    order_id    text NOT NULL REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    line_no     integer NOT NULL,
    sku         text NOT NULL,
    quantity    integer NOT NULL,
    unit_price  numeric(12,2) NOT NULL,
    line_total  numeric(12,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- The indexes the course recommends for the queries orders get: by customer, by status, by
-- time, and status with time together (the notifier's "what is not sent yet, oldest first").
CREATE INDEX IF NOT EXISTS idx_orders_customer_id ON orders (customer_id);
CREATE INDEX IF NOT EXISTS idx_orders_status ON orders (status);
CREATE INDEX IF NOT EXISTS idx_orders_created_at ON orders (created_at);
CREATE INDEX IF NOT EXISTS idx_orders_status_created ON orders (status, created_at);
-- (An earlier version indexed the orders still to notify; `order_notifications` below does that.)
DROP INDEX IF EXISTS idx_orders_unnotified;

-- The notifier's outbox: every new order, until its notification is sent. A trigger adds the
-- orders each upsert inserted (an order stored again is not notified again); the notifier claims
-- a batch (`claim`: its execution; a claim older than 30 seconds is taken over, which is how a
-- batch whose worker died is sent again), sends it, then deletes it and sets `orders.notified_at`
-- in one statement. Claims live here rather than in `orders`, so an order is written once after
-- its insert, in place (no indexed column changes; `fillfactor` leaves room on its page), instead
-- of twice with new entries in each of its indexes.
-- Each row carries what its notification says (email, total), so a claim reads nothing else: a
-- join to `orders` would read that whole table once it outgrows a batch (Postgres hashes it).
CREATE TABLE IF NOT EXISTS order_notifications (
    order_id        text PRIMARY KEY,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    claim           text,
    claimed_at      timestamptz,
    customer_email  text,
    total           numeric(12,2)
) WITH (fillfactor = 50);
CREATE INDEX IF NOT EXISTS idx_order_notifications_queued ON order_notifications (queued_at);
-- A database made by an earlier version: the outbox gets the notification's fields.
ALTER TABLE order_notifications ADD COLUMN IF NOT EXISTS customer_email text,
    ADD COLUMN IF NOT EXISTS total numeric(12,2);
UPDATE order_notifications n SET customer_email = o.customer_email, total = o.total
    FROM orders o WHERE o.id = n.order_id AND n.total IS NULL;

CREATE OR REPLACE FUNCTION queue_order_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO order_notifications (order_id, customer_email, total)
        SELECT id, customer_email, total FROM inserted_orders;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER orders_queue_notifications
    AFTER INSERT ON orders REFERENCING NEW TABLE AS inserted_orders
    FOR EACH STATEMENT EXECUTE FUNCTION queue_order_notifications();
-- A database made by an earlier version: its orders not notified yet join the outbox.
INSERT INTO order_notifications (order_id, queued_at, customer_email, total)
    SELECT id, coalesce(processed_at, created_at), customer_email, total FROM orders
    WHERE notified_at IS NULL
    ON CONFLICT (order_id) DO NOTHING;

-- The intake's queue: an accepted order waits here until a processing batch has stored it.
-- `rank_at` orders the queue: arrival time, 30 seconds earlier for high priority and later for
-- low (so a low-priority order waits at most a minute longer than a high one: it never starves).
-- `available_at` is when a batch may take it: a batch that takes an order moves it 60 seconds
-- ahead (its lease; an order whose batch died is taken again after that), a failed attempt moves
-- it by a backoff. After 5 failed attempts an order is dead-lettered (`dead_at`, `last_error`).
CREATE TABLE IF NOT EXISTS order_inbox (
    id           text PRIMARY KEY,
    priority     text NOT NULL,
    rank_at      timestamptz NOT NULL,
    available_at timestamptz NOT NULL DEFAULT now(),
    body         jsonb NOT NULL,                 -- the order as the intake accepted it
    received_at  timestamptz NOT NULL DEFAULT now(),
    claim        text,                           -- the processing execution that holds it
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    dead_at      timestamptz
);
-- Room on each page for a batch's claim to rewrite every row in place.
ALTER TABLE order_inbox SET (fillfactor = 50);
-- What a batch takes next: live orders by rank.
CREATE INDEX IF NOT EXISTS idx_order_inbox_rank ON order_inbox (rank_at) WHERE dead_at IS NULL;

-- A processing batch's claim (see `process.json`): up to `batch_size` orders that are due, by
-- rank, skipping those another batch holds, leased to `batch_claim` for `lease`. It walks
-- the rank index from the front and stops after `batch_size`; that walk also marks the index
-- entries of deleted orders as dead, so later claims step over them. Left to itself the planner
-- reads every entry into a bitmap and visits every page of the table instead, which costs more
-- each second until a vacuum, as orders are deleted at the rate they arrive (measured in
-- docs/performance.md: 19 -> 86 ms per claim within a minute at 2,000 orders/s). The two
-- settings below hold for this function's statement only.
CREATE OR REPLACE FUNCTION claim_order_batch(batch_claim text, batch_size integer, lease interval)
    RETURNS TABLE (id text, claim text) LANGUAGE sql
    SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
    UPDATE order_inbox SET claim = batch_claim, available_at = now() + lease
    WHERE order_inbox.id IN (
        SELECT due.id FROM order_inbox due
        WHERE due.dead_at IS NULL AND due.available_at <= now()
        ORDER BY due.rank_at
        LIMIT batch_size
        FOR UPDATE SKIP LOCKED
    )
    RETURNING order_inbox.id, order_inbox.claim
$$;

-- Business rules, read by the processing workflow and cached in Redis with a TTL.
CREATE TABLE IF NOT EXISTS order_rules (
    name  text PRIMARY KEY,
    value jsonb NOT NULL
);

INSERT INTO order_rules (name, value) VALUES
    ('taxRates', '{"US": 0.07, "DE": 0.19, "FR": 0.2, "GB": 0.2, "JP": 0.1, "default": 0.2}'),
    ('volumeDiscounts', '[{"minSubtotal": 500, "percent": 5}, {"minSubtotal": 1000, "percent": 8}]'),
    ('shippingFees', '{"express": 15, "standard": 5, "economy": 0}')
ON CONFLICT (name) DO NOTHING;
