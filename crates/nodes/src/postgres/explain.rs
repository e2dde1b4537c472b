//! `options.explain`: instead of the rows, the plan Postgres chose and what running it cost
//! (`EXPLAIN (ANALYZE, FORMAT JSON)`), one item per statement. The statement really runs, as
//! with `EXPLAIN ANALYZE` in psql.

/// The statement wrapped in `EXPLAIN (ANALYZE, FORMAT JSON)`.
pub(super) fn wrap(sql: &str) -> String {
    format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
}
