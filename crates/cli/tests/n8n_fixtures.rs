//! n8n's own node fixtures (`../shared/n8n-fixtures`, beside the repository) as a conformance
//! suite: every fixture must pass, those with Code / Function nodes (JavaScript) included.

mod support;

#[test]
fn n8n_fixtures_pass() {
    support::judge_shared_fixtures("n8n-fixtures");
}
