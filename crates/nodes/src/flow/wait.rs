//! Wait v1/v1.1 (`n8n-nodes-base.wait`): pauses the execution after a time interval or until a
//! specific time, then passes its input through unchanged. It sleeps on the execution clock, so
//! tests on a virtual clock see the time pass without waiting. Resuming on a webhook call or a
//! form submission is not supported yet (a build error).

use crate::util::dates::{parse_value, parse_zone};
use crate::util::params::Reader;
use crate::util::values::{as_number, as_text};
use chrono_tz::Tz;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::NodeDef;
use std::time::Duration;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.wait",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

enum Resume {
    TimeInterval {
        default_amount: f64,
        default_unit: &'static str,
    },
    SpecificTime,
}

struct Wait {
    resume: Resume,
}

fn build(node: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let resume = r.choice("resume", "timeInterval", |r| match r {
        "timeInterval" if node.version() < 1.1 => Some(Resume::TimeInterval {
            default_amount: 1.0,
            default_unit: "hours",
        }),
        "timeInterval" => Some(Resume::TimeInterval {
            default_amount: 5.0,
            default_unit: "seconds",
        }),
        "specificTime" => Some(Resume::SpecificTime),
        _ => None,
    })
    .map_err(|e| match params.at("resume").literal_str() {
        Some(mode @ ("webhook" | "form")) => NodeError::new(format!(
            "resuming on a {mode} call is not supported yet; use 'After Time Interval' or 'At Specified Time'"
        ))
        .with_parameter("resume"),
        _ => e,
    })?;
    Ok(Box::new(Wait { resume }))
}

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "seconds" => 1.0,
        "minutes" => 60.0,
        "hours" => 3600.0,
        "days" => 86_400.0,
        _ => return None,
    })
}

impl Wait {
    /// How long to wait, from the parameters as resolved for the first item.
    fn delay(&self, ctx: &ExecuteContext<'_>) -> Result<Duration, NodeError> {
        let seconds = match &self.resume {
            Resume::TimeInterval {
                default_amount,
                default_unit,
            } => {
                let amount = match ctx.param("amount", 0)? {
                    v if v.is_null() => *default_amount,
                    v => as_number(&v).ok_or_else(|| {
                        NodeError::new(format!("the wait amount '{}' is not a number", as_text(&v)))
                            .with_parameter("amount")
                    })?,
                };
                let unit = ctx
                    .param_str("unit", 0)?
                    .unwrap_or_else(|| default_unit.to_string());
                let per_unit = unit_seconds(&unit).ok_or_else(|| {
                    NodeError::new(format!("unsupported wait unit '{unit}'")).with_parameter("unit")
                })?;
                amount * per_unit
            }
            Resume::SpecificTime => {
                let value = ctx.param("dateTime", 0)?;
                let zone = parse_zone(ctx.timezone()).unwrap_or(Tz::UTC);
                let at = parse_value(&value).ok().flatten().ok_or_else(|| {
                    NodeError::new(format!(
                        "'{}' is not a valid date and time",
                        as_text(&value)
                    ))
                    .with_parameter("dateTime")
                })?;
                (at.in_zone(zone).timestamp_millis() - ctx.now().timestamp_millis()) as f64 / 1000.0
            }
        };
        if seconds < 0.0 && matches!(self.resume, Resume::TimeInterval { .. }) {
            return Err(
                NodeError::new("the wait amount must not be negative").with_parameter("amount")
            );
        }
        Ok(Duration::from_secs_f64(seconds.max(0.0)))
    }
}

#[async_trait::async_trait]
impl Node for Wait {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let delay = self.delay(ctx)?;
        ctx.clock().sleep(delay).await;
        Ok(vec![ctx.main_input().to_vec()])
    }
}
