//! A child process started in a process group of its own (`process_group(0)`) is killed with
//! everything it started when the node's run is dropped (the execution was stopped, or a time
//! limit passed) before the process ended: nodes that run programs (Execute Command, a Python
//! Code node) leave nothing running behind them.

/// While a process runs, its process group, killed on drop unless disarmed.
pub(crate) struct KillGroupOnDrop(Option<u32>);

impl KillGroupOnDrop {
    /// `child` must have been spawned with `process_group(0)`: its id is its group's.
    pub(crate) fn new(child: &tokio::process::Child) -> Self {
        KillGroupOnDrop(child.id())
    }

    /// The process ended: whatever it left running in the background stays, as in n8n.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        if let Some(group) = self.0.and_then(|id| i32::try_from(id).ok()) {
            // SAFETY: kill only sends a signal; a group that already ended makes it fail harmlessly.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
}
