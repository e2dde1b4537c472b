-- Exercise 1's tables: `records` rows to process (psql -v records=N; 10,000 by default), one
-- in a hundred with a value that is not an amount, and the results.
\if :{?records}
\else
  \set records 10000
\endif
DROP TABLE IF EXISTS exercise_records, exercise_results;
CREATE TABLE exercise_records (id integer PRIMARY KEY, value numeric);
INSERT INTO exercise_records
  SELECT g, CASE WHEN g % 100 = 0 THEN -1 ELSE (g % 997) / 10.0 END
  FROM generate_series(1, :records) AS g;
CREATE TABLE exercise_results (
  id integer PRIMARY KEY, status text NOT NULL, result numeric, error text,
  batch integer NOT NULL, started_ms bigint NOT NULL
);
