//! Execute Command v1 (`n8n-nodes-base.executeCommand`): runs a shell command on the machine
//! Sluice runs on (in queue mode, the worker's) and outputs `{exitCode, stderr, stdout}`, once
//! (`executeOnce`, the default) or for every input item. A command that exits non-zero fails
//! the node with its stderr. A command runs in its own process group, killed with everything it
//! started when the execution stops before it ends. As in n8n 2.x, deployments leave this node out unless
//! `NODES_EXCLUDE` allows it (see `crate::NodeFilter`).

use crate::util::params::Reader;
use crate::util::per_item;
use crate::util::process_group::KillGroupOnDrop;
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{JsonObject, NodeDef, Value};
use std::process::Stdio;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.executeCommand",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

/// The shell a command runs in, as n8n's (Node.js `exec`) on Unix.
const SHELL: &str = "/bin/sh";

struct ExecuteCommand {
    /// Run once, for the first item; otherwise once per item.
    once: bool,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let once = Reader::fixed(params).bool_or("executeOnce", true)?;
    Ok(Box::new(ExecuteCommand { once }))
}

#[async_trait::async_trait]
impl Node for ExecuteCommand {
    fn item_wise(&self) -> ItemWise {
        match self.once {
            true => ItemWise::Barrier,
            false => ItemWise::Yes,
        }
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let runs = match self.once {
            true => ctx.main_input().len().min(1),
            false => ctx.main_input().len(),
        };
        let out = per_item::in_turn(ctx, runs, |index| async move {
            run_for_item(ctx, index).await.map(|json| vec![json.into()])
        })
        .await?;
        Ok(vec![out])
    }
}

async fn run_for_item(ctx: &ExecuteContext<'_>, index: usize) -> Result<JsonObject, NodeError> {
    let command = ctx.param_str("command", index)?.unwrap_or_default();
    if command.trim().is_empty() {
        return Err(NodeError::new("no command to execute").with_parameter("command"));
    }
    let child = tokio::process::Command::new(SHELL)
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| NodeError::new(format!("cannot start {SHELL}: {e}")))?;
    let group = KillGroupOnDrop::new(&child);
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| NodeError::new(format!("the command's output was lost: {e}")))?;
    group.disarm();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_string();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    // A command ended by a signal has no exit code; the shell's convention is 128 + signal.
    let exit_code = output.status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + output.status.signal().unwrap_or(0)
    });
    if exit_code != 0 {
        let error = NodeError::new(format!(
            "Command failed with exit code {exit_code}: {}",
            first_line(&command)
        ));
        return Err(match stderr.is_empty() {
            true => error,
            false => error.with_description(stderr),
        });
    }
    let mut json = JsonObject::new();
    json.insert("exitCode".into(), Value::from(exit_code));
    json.insert("stderr".into(), Value::String(stderr));
    json.insert("stdout".into(), Value::String(stdout));
    Ok(json)
}

/// A command's first line, marked when there is more: errors stay on one line.
fn first_line(command: &str) -> String {
    let command = command.trim();
    match command.split_once('\n') {
        Some((first, _)) => format!("{} ...", first.trim_end()),
        None => command.to_string(),
    }
}
