//! The stand-in customers API: records made up from the id alone (the same id always gives the
//! same customer), one at a time or a page at a time with a link to the next page.

use super::Upstream;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

const TIERS: [(&str, u64); 3] = [("standard", 0), ("silver", 5), ("gold", 10)];
const COUNTRIES: [&str; 5] = ["US", "DE", "FR", "GB", "JP"];

fn customer(id: u64) -> Value {
    let (tier, discount_percent) = TIERS[(id % 3) as usize];
    json!({
        "id": id,
        "name": format!("Customer {id}"),
        "email": format!("customer{id}@example.com"),
        "tier": tier,
        "discountPercent": discount_percent,
        "country": COUNTRIES[(id % 5) as usize],
    })
}

/// `GET /customers/{id}`: one customer, or 404.
pub async fn one(State(upstream): State<Arc<Upstream>>, Path(id): Path<u64>) -> Response {
    if (1..=upstream.args.customers).contains(&id) {
        Json(customer(id)).into_response()
    } else {
        let error = json!({"error": format!("no customer with id {id}")});
        (StatusCode::NOT_FOUND, Json(error)).into_response()
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default = "first_page")]
    page: u64,
}

fn first_page() -> u64 {
    1
}

/// `GET /customers?page=N` (from 1): a page of customers, with `nextPage` and a `next` URL that
/// are null on the last page.
pub async fn page(
    State(upstream): State<Arc<Upstream>>,
    Query(query): Query<PageQuery>,
) -> Response {
    if query.page == 0 {
        let error = json!({"error": "pages are numbered from 1"});
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    }
    let total = upstream.args.customers;
    let page_size = upstream.args.page_size;
    let first = (query.page - 1).saturating_mul(page_size).saturating_add(1);
    let last = first.saturating_add(page_size - 1).min(total);
    let data: Vec<Value> = (first..=last).map(customer).collect();
    let next_page = (last < total).then_some(query.page + 1);
    Json(json!({
        "data": data,
        "page": query.page,
        "pageSize": page_size,
        "total": total,
        "totalPages": total.div_ceil(page_size),
        "nextPage": next_page,
        "next": next_page.map(|n| format!("{}/customers?page={n}", upstream.base_url)),
    }))
    .into_response()
}
