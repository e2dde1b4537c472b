//! What the active workflows listen on: webhook paths (exact ones in a hash map, ones with
//! `:param` segments scanned in order), form paths and schedule rules. Rebuilt as a whole and swapped in
//! whenever a workflow is activated, updated or deactivated.

use crate::deployed::Deployed;
use sluice_model::JsonObject;
use sluice_nodes::trigger::form_ending;
use sluice_nodes::trigger::form_trigger::{self, FormConfig};
use sluice_nodes::trigger::schedule::{self, ScheduleRule};
use sluice_nodes::trigger::webhook::WebhookConfig;
use std::collections::HashMap;
use std::sync::Arc;

pub struct WebhookTarget {
    pub workflow: Arc<Deployed>,
    pub node: String,
    pub config: WebhookConfig,
}

/// A Form Trigger: its page, and the webhook its submissions arrive at.
pub struct FormTarget {
    pub form: FormConfig,
    pub webhook: WebhookTarget,
}

pub struct ScheduleTarget {
    pub workflow: Arc<Deployed>,
    pub node: String,
    pub rules: Vec<ScheduleRule>,
}

#[derive(Default)]
pub struct Routes {
    exact: HashMap<(String, String), Arc<WebhookTarget>>,
    dynamic: Vec<Arc<WebhookTarget>>,
    /// Form Triggers by path.
    forms: HashMap<String, Arc<FormTarget>>,
    pub schedules: Vec<ScheduleTarget>,
    workflows: HashMap<String, Arc<Deployed>>,
    /// Active workflows that could not be built or routed, with why: they are not served.
    rejected: HashMap<String, String>,
}

impl Routes {
    /// Index `workflows`; an error names two workflows claiming the same method and path.
    pub fn build(workflows: Vec<Arc<Deployed>>) -> Result<Routes, String> {
        let mut routes = Routes::default();
        for wf in workflows {
            routes.add(wf)?;
        }
        Ok(routes)
    }

    /// Add one workflow's webhooks and schedules, or nothing when one of them is invalid or
    /// its method and path is taken.
    pub fn add(&mut self, wf: Arc<Deployed>) -> Result<(), String> {
        let mut schedules = Vec::new();
        let mut exact = HashMap::new();
        let mut dynamic = Vec::new();
        let mut forms = HashMap::new();
        for def in &wf.compiled.workflow().nodes {
            if def.disabled {
                continue;
            }
            if schedule::is_schedule(def) {
                let rules = schedule::schedule_rules(def).map_err(|e| e.to_string())?;
                schedules.push(ScheduleTarget {
                    workflow: wf.clone(),
                    node: def.name.clone(),
                    rules,
                });
                continue;
            }
            if def.node_type == form_trigger::SPEC.node_type {
                let mut form = FormConfig::from_node(def).map_err(|e| e.to_string())?;
                let nodes = &wf.compiled.workflow().nodes;
                if nodes
                    .iter()
                    .any(|n| !n.disabled && n.node_type == form_ending::SPEC.node_type)
                {
                    form.answered_by_ending();
                }
                let path = form.webhook.path.join("/");
                if let Some(other) = self.forms.get(&path).or_else(|| forms.get(&path)) {
                    return Err(format!(
                        "form /{path} of workflow {} is already used by workflow {}",
                        wf.id, other.webhook.workflow.id
                    ));
                }
                let webhook = WebhookTarget {
                    workflow: wf.clone(),
                    node: def.name.clone(),
                    config: form.webhook.clone(),
                };
                forms.insert(path, Arc::new(FormTarget { form, webhook }));
                continue;
            }
            if def.node_type != sluice_nodes::trigger::webhook::SPEC.node_type {
                continue;
            }
            let config = WebhookConfig::from_node(def).map_err(|e| e.to_string())?;
            let target = Arc::new(WebhookTarget {
                workflow: wf.clone(),
                node: def.name.clone(),
                config,
            });
            if !target.config.is_static() {
                dynamic.push(target);
                continue;
            }
            let path = target.config.path.join("/");
            for method in &target.config.methods {
                let key = (method.clone(), path.clone());
                if let Some(other) = self.exact.get(&key).or_else(|| exact.get(&key)) {
                    return Err(format!(
                        "webhook {method} /{path} of workflow {} is already used by workflow {}",
                        wf.id, other.workflow.id
                    ));
                }
                exact.insert(key, target.clone());
            }
        }
        self.schedules.extend(schedules);
        self.exact.extend(exact);
        self.dynamic.extend(dynamic);
        self.forms.extend(forms);
        self.workflows.insert(wf.id.clone(), wf);
        Ok(())
    }

    /// Record that the active workflow `id` is not served, and why.
    pub fn reject(&mut self, id: String, error: String) {
        self.rejected.insert(id, error);
    }

    /// Why the active workflow `id` is not served, if it is not.
    pub fn rejection(&self, id: &str) -> Option<&str> {
        self.rejected.get(id).map(String::as_str)
    }

    pub fn workflow(&self, id: &str) -> Option<Arc<Deployed>> {
        self.workflows.get(id).cloned()
    }

    /// The Form Trigger served at `path`.
    pub fn form(&self, path: &str) -> Option<Arc<FormTarget>> {
        self.forms.get(path.trim_matches('/')).cloned()
    }

    /// The webhook for `method` and `path`, with its path parameters.
    pub fn find(&self, method: &str, path: &str) -> Option<(Arc<WebhookTarget>, JsonObject)> {
        let path = path.trim_matches('/');
        let mut params = JsonObject::new();
        if let Some(t) = self.exact.get(&(method.to_string(), path.to_string())) {
            return Some((t.clone(), params));
        }
        let segments: Vec<&str> = path.split('/').collect();
        for t in &self.dynamic {
            params.clear();
            if t.config.methods.iter().any(|m| m == method)
                && t.config.matches(&segments, &mut params)
            {
                return Some((t.clone(), params));
            }
        }
        None
    }

    /// True when some method answers `path` (to tell "wrong method" from "unknown path").
    pub fn has_path(&self, path: &str) -> bool {
        !self.methods(path).is_empty()
    }

    /// The methods some webhook answers on `path`, sorted (for CORS preflights).
    pub fn methods(&self, path: &str) -> Vec<&str> {
        let path = path.trim_matches('/');
        let segments: Vec<&str> = path.split('/').collect();
        let exact = self
            .exact
            .keys()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.as_str());
        let dynamic = self
            .dynamic
            .iter()
            .filter(|t| t.config.matches(&segments, &mut JsonObject::new()))
            .flat_map(|t| t.config.methods.iter().map(String::as_str));
        let mut methods: Vec<&str> = exact.chain(dynamic).collect();
        methods.sort_unstable();
        methods.dedup();
        methods
    }
}
