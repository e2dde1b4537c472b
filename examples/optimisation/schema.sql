-- Exercise 3's tables: `orders` orders (psql -v orders=N; 2,000 by default), one in ten
-- pending, with customers among the stand-in API's first 1,000, and the enriched copies.
\if :{?orders}
\else
  \set orders 2000
\endif
DROP TABLE IF EXISTS opt_orders, opt_enriched;
CREATE TABLE opt_orders (
  id integer PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
  amount numeric(10,2) NOT NULL, note text
);
INSERT INTO opt_orders
  SELECT g, g % 1000 + 1, CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'shipped' END,
         (g % 500) + 0.99, repeat('x', 200)
  FROM generate_series(1, :orders) AS g;
CREATE TABLE opt_enriched (order_id integer PRIMARY KEY, customer_email text, amount numeric(10,2));
