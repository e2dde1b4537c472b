//! Runs Schedule Trigger, Cron and Interval nodes and polling triggers (RSS Feed Trigger: a tick
//! runs the workflow only when the poll finds something) of active workflows: sleeps (on the server's
//! clock) until the next tick of any rule, computed in the workflow's time zone (Interval: at
//! multiples of its period since the Unix epoch), claims the tick in the store
//! (so each tick runs once however many processes share the store), lets a weeks rule with an
//! interval skip the weeks in between (its state is in the workflow's static data) and starts the
//! execution.

use crate::app::{App, Start, StartId};
use crate::deployed::Deployed;
use crate::routes::Routes;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use croner::Cron;
use sluice_model::{JsonObject, Value};
use sluice_nodes::trigger::schedule::{self, take_weeks_tick, ScheduleRule, Timing};
use sluice_store::StoreError;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A rule that is due at a tick.
struct DueRule {
    workflow_id: String,
    node: String,
    /// Its index among the node's rules.
    index: usize,
    rule: ScheduleRule,
}

/// The workflow's time zone (`settings.timezone`, default UTC).
pub(crate) fn timezone(wf: &Deployed) -> Tz {
    wf.compiled
        .workflow()
        .settings
        .timezone
        .as_deref()
        .and_then(|name| name.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// The first time after `after` that `cron` matches in time zone `tz`.
fn next_occurrence(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The first whole multiple of `period` since the Unix epoch after `after`.
fn next_multiple(period: Duration, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let period = i64::try_from(period.as_millis()).ok().filter(|p| *p > 0)?;
    let next = (after.timestamp_millis().div_euclid(period) + 1) * period;
    DateTime::from_timestamp_millis(next)
}

/// The first time after `after` that `timing` fires in time zone `tz` (none when it never
/// does again); an error names an invalid cron expression.
pub(crate) fn next_time(
    timing: &Timing,
    tz: Tz,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    match timing {
        Timing::Every(period) => Ok(next_multiple(*period, after)),
        // croner takes an empty list element (`,5`) as a field no time matches, and would
        // search for thousands of years before giving up.
        Timing::Cron(expr)
            if expr
                .split_whitespace()
                .any(|f| f.split(',').any(str::is_empty)) =>
        {
            Err(format!("invalid cron '{expr}': empty list element"))
        }
        Timing::Cron(expr) => Cron::from_str(expr)
            .map(|cron| next_occurrence(&cron, tz, after))
            .map_err(|_| format!("invalid cron '{expr}'")),
    }
}

/// The next tick after `after` among the active schedules, with the rules due at it.
fn next_tick(routes: &Routes, after: DateTime<Utc>) -> Option<(DateTime<Utc>, Vec<DueRule>)> {
    let mut best: Option<(DateTime<Utc>, Vec<DueRule>)> = None;
    for target in &routes.schedules {
        let tz = timezone(&target.workflow);
        for (index, rule) in target.rules.iter().enumerate() {
            let at = match next_time(&rule.timing, tz, after) {
                Ok(Some(at)) => at,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!("workflow {}: {e}", target.workflow.id);
                    continue;
                }
            };
            let due = DueRule {
                workflow_id: target.workflow.id.clone(),
                node: target.node.clone(),
                index,
                rule: rule.clone(),
            };
            match &mut best {
                Some((b, list)) if at == *b => list.push(due),
                Some((b, _)) if at > *b => {}
                _ => best = Some((at, vec![due])),
            }
        }
    }
    best
}

/// The scheduler loop (until the task is dropped).
pub async fn run(app: Arc<App>) {
    let clock = app.config.clock.clone();
    let owner = format!("{}-{}", std::process::id(), sluice_store::now_ms());
    let mut after = clock.now();
    loop {
        let changed = app.routes_changed.notified();
        let Some((at, due)) = next_tick(&app.routes(), after) else {
            changed.await;
            after = clock.now();
            continue;
        };
        let wait = (at - clock.now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = clock.sleep(wait) => {}
            () = changed => { after = clock.now(); continue; }
        }
        after = at;
        for rule in due {
            fire(&app, &owner, rule, at).await;
        }
    }
}

/// Claim the tick and start the execution from the rule's node.
async fn fire(app: &Arc<App>, owner: &str, due: DueRule, at: DateTime<Utc>) {
    let key = format!("{}:{}", due.workflow_id, due.node);
    match app
        .store
        .try_lease(&key, at.timestamp_millis(), owner)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!("schedule {key}: cannot claim tick: {e}");
            return;
        }
    }
    let Some(wf) = app.routes().workflow(&due.workflow_id) else {
        return;
    };
    let tz = timezone(&wf);
    let local = at.with_timezone(&tz);
    if let Some(interval) = due.rule.every_weeks {
        match weeks_due(app, &wf, &due, interval, local.date_naive()).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!("schedule {key}: cannot check its weeks interval: {e}");
                return;
            }
        }
    }
    let items = match wf
        .compiled
        .workflow()
        .nodes
        .iter()
        .find(|n| n.name == due.node)
    {
        Some(def) if schedule::is_polling(def) => match poll(app, &wf, def, at).await {
            Ok(items) if items.is_empty() => return,
            Ok(items) => items,
            Err(e) => {
                tracing::warn!("schedule {key}: the poll failed: {e}");
                return;
            }
        },
        _ => vec![due.rule.item(&local.fixed_offset(), tz.name())],
    };
    let start = Start {
        mode: "trigger",
        start_node: Some(due.node),
        items,
        resumable: true,
        retry_of: None,
        id: StartId::New,
        priority: None,
        whole_last_output: false,
    };
    if let Err(e) = app.start(wf, start).await {
        tracing::error!("schedule {key}: {}", e.message);
    }
}

/// A polling trigger's tick: what its poll found (nothing new: no execution), its state kept in
/// the workflow's static data under `node:<name>`, as n8n keeps it.
async fn poll(
    app: &App,
    wf: &Deployed,
    def: &sluice_model::NodeDef,
    at: DateTime<Utc>,
) -> Result<Vec<sluice_model::Item>, String> {
    let mut data = match app.store.workflow_static_data(&wf.id).await {
        Ok(Some(saved)) => saved,
        Ok(None) => wf.compiled.workflow().static_data_object(),
        Err(e) => return Err(e.to_string()),
    };
    let key = format!("node:{}", def.name);
    let mut state = match data.get(&key) {
        Some(Value::Object(state)) => state.clone(),
        _ => JsonObject::new(),
    };
    let items = sluice_nodes::data::poll(def, &mut state, at)
        .await
        .map_err(|e| e.to_string())?;
    data.insert(key, Value::Object(state));
    app.store
        .save_workflow_static_data(&wf.id, &data)
        .await
        .map_err(|e| e.to_string())?;
    Ok(items)
}

/// Whether the tick of a weeks rule with an interval runs on `date` (local); when it does, its
/// week is saved in the workflow's static data before the execution starts (and reads it).
async fn weeks_due(
    app: &App,
    wf: &Deployed,
    due: &DueRule,
    interval: u64,
    date: NaiveDate,
) -> Result<bool, StoreError> {
    let mut data = match app.store.workflow_static_data(&wf.id).await? {
        Some(saved) => saved,
        None => wf.compiled.workflow().static_data_object(),
    };
    if !take_weeks_tick(&mut data, &due.node, due.index, interval, date) {
        return Ok(false);
    }
    app.store.save_workflow_static_data(&wf.id, &data).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn interval_ticks_fall_on_multiples_of_the_period() {
        let after = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 40).unwrap();
        let ninety = Duration::from_secs(90);
        assert_eq!(
            next_multiple(ninety, after),
            Utc.with_ymd_and_hms(2025, 3, 1, 0, 1, 30).single()
        );
        let on_a_tick = Utc.with_ymd_and_hms(2025, 3, 1, 0, 1, 30).unwrap();
        assert_eq!(
            next_multiple(ninety, on_a_tick),
            Utc.with_ymd_and_hms(2025, 3, 1, 0, 3, 0).single()
        );
    }

    #[test]
    fn ticks_are_computed_in_the_workflow_time_zone() {
        let monday_nine = Cron::from_str("0 0 9 * * 1").unwrap();
        let after = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
        let berlin = next_occurrence(&monday_nine, "Europe/Berlin".parse().unwrap(), after);
        assert_eq!(berlin, Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single());
        let utc = next_occurrence(&monday_nine, Tz::UTC, after);
        assert_eq!(utc, Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).single());
    }
}
