//! Lead event names and which webhooks an event goes to: the events a
//! webhook listens to (with `lead.saved` standing for created or updated)
//! and its optional conditions on the lead's funnel stage. Pure, so the
//! outbox (`storage::lead_events`) and its tests share one definition.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::batching::Batching;
use crate::domain::InvalidInput;

/// The events a lead change produces, and the names a webhook listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
// The variants spell the event names (`lead.created`, ...); every event
// is about a lead today, and others will come.
#[allow(clippy::enum_variant_names)]
pub(crate) enum EventName {
    #[serde(rename = "lead.created")]
    LeadCreated,
    /// A lead's fields changed (a change of funnel stage alone is
    /// `lead.stage_changed`).
    #[serde(rename = "lead.updated")]
    LeadUpdated,
    #[serde(rename = "lead.deleted")]
    LeadDeleted,
    #[serde(rename = "lead.stage_changed")]
    LeadStageChanged,
    /// Subscription only: `lead.created` or `lead.updated`.
    #[serde(rename = "lead.saved")]
    LeadSaved,
}

impl EventName {
    pub(crate) const ALL: [EventName; 5] = [
        EventName::LeadCreated,
        EventName::LeadUpdated,
        EventName::LeadDeleted,
        EventName::LeadStageChanged,
        EventName::LeadSaved,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventName::LeadCreated => "lead.created",
            EventName::LeadUpdated => "lead.updated",
            EventName::LeadDeleted => "lead.deleted",
            EventName::LeadStageChanged => "lead.stage_changed",
            EventName::LeadSaved => "lead.saved",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }

    /// Whether a webhook listening to `self` receives an `occurred` event.
    pub(crate) fn covers(self, occurred: EventName) -> bool {
        self == occurred
            || (self == EventName::LeadSaved
                && matches!(occurred, EventName::LeadCreated | EventName::LeadUpdated))
    }
}

/// Optional conditions on an event; every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Conditions {
    /// The lead's funnel stage (after the change) is one of these stage ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funnel_stage_in: Vec<String>,
    /// The lead's funnel stage (after the change) is none of these stage
    /// ids; a lead outside the funnel passes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funnel_stage_not_in: Vec<String>,
    /// The event is a `lead.stage_changed` to one of these stage ids; other
    /// events do not pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stage_changed_to: Vec<String>,
}

impl Conditions {
    /// Every stage id the conditions name, to check they exist.
    pub(crate) fn stage_ids(&self) -> impl Iterator<Item = &str> {
        self.funnel_stage_in
            .iter()
            .chain(&self.funnel_stage_not_in)
            .chain(&self.stage_changed_to)
            .map(String::as_str)
    }

    pub(crate) fn matches(&self, event: &OccurredEvent<'_>) -> bool {
        let in_list = |list: &[String], stage: Option<&str>| {
            stage.is_some_and(|stage| list.iter().any(|id| id == stage))
        };
        if !self.funnel_stage_in.is_empty() && !in_list(&self.funnel_stage_in, event.stage_after) {
            return false;
        }
        if in_list(&self.funnel_stage_not_in, event.stage_after) {
            return false;
        }
        if !self.stage_changed_to.is_empty()
            && (event.name != EventName::LeadStageChanged
                || !in_list(&self.stage_changed_to, event.stage_after))
        {
            return false;
        }
        true
    }
}

/// What a subscription is matched against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OccurredEvent<'a> {
    pub name: EventName,
    /// The lead's funnel stage once the change is made (for a deletion, the
    /// stage it had).
    pub stage_after: Option<&'a str>,
}

/// The events and conditions of one active webhook.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub webhook_id: String,
    pub events: Vec<EventName>,
    pub conditions: Conditions,
    /// How its deliveries are grouped into batches.
    pub batching: Batching,
}

impl Subscription {
    pub(crate) fn wants(&self, event: &OccurredEvent<'_>) -> bool {
        self.events
            .iter()
            .any(|listened| listened.covers(event.name))
            && self.conditions.matches(event)
    }
}

/// Parses the list of events a webhook listens to: at least one, no
/// repeats.
pub(crate) fn parse_event_list(names: &[String]) -> Result<Vec<EventName>, InvalidInput> {
    if names.is_empty() {
        return Err(InvalidInput(format!(
            "events must name at least one of: {}",
            all_names()
        )));
    }
    let mut events = Vec::with_capacity(names.len());
    for name in names {
        let event = EventName::parse(name).ok_or_else(|| {
            InvalidInput(format!(
                "unknown event `{name}`; the events are: {}",
                all_names()
            ))
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Ok(events)
}

fn all_names() -> String {
    EventName::ALL.map(EventName::as_str).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: EventName, stage_after: Option<&str>) -> OccurredEvent<'_> {
        OccurredEvent { name, stage_after }
    }

    #[test]
    fn saved_covers_created_and_updated_only() {
        assert!(EventName::LeadSaved.covers(EventName::LeadCreated));
        assert!(EventName::LeadSaved.covers(EventName::LeadUpdated));
        assert!(!EventName::LeadSaved.covers(EventName::LeadDeleted));
        assert!(!EventName::LeadSaved.covers(EventName::LeadStageChanged));
        assert!(!EventName::LeadCreated.covers(EventName::LeadUpdated));
    }

    #[test]
    fn stage_conditions() {
        let conditions = Conditions {
            funnel_stage_in: vec!["a".into(), "b".into()],
            ..Conditions::default()
        };
        assert!(conditions.matches(&event(EventName::LeadUpdated, Some("a"))));
        assert!(!conditions.matches(&event(EventName::LeadUpdated, Some("c"))));
        assert!(!conditions.matches(&event(EventName::LeadUpdated, None)));

        let not_in = Conditions {
            funnel_stage_not_in: vec!["a".into()],
            ..Conditions::default()
        };
        assert!(!not_in.matches(&event(EventName::LeadUpdated, Some("a"))));
        assert!(not_in.matches(&event(EventName::LeadUpdated, Some("b"))));
        assert!(not_in.matches(&event(EventName::LeadUpdated, None)));
    }

    #[test]
    fn stage_changed_to_passes_only_stage_changes_to_the_listed_stages() {
        let conditions = Conditions {
            stage_changed_to: vec!["won".into()],
            ..Conditions::default()
        };
        assert!(conditions.matches(&event(EventName::LeadStageChanged, Some("won"))));
        assert!(!conditions.matches(&event(EventName::LeadStageChanged, Some("lost"))));
        assert!(!conditions.matches(&event(EventName::LeadUpdated, Some("won"))));
    }

    #[test]
    fn subscription_needs_event_and_conditions() {
        let subscription = Subscription {
            webhook_id: "wh".into(),
            batching: crate::domain::webhook::WebhookSettings::default().batching,
            events: vec![EventName::LeadSaved],
            conditions: Conditions {
                funnel_stage_in: vec!["a".into()],
                ..Conditions::default()
            },
        };
        assert!(subscription.wants(&event(EventName::LeadCreated, Some("a"))));
        assert!(!subscription.wants(&event(EventName::LeadCreated, Some("b"))));
        assert!(!subscription.wants(&event(EventName::LeadDeleted, Some("a"))));
    }

    #[test]
    fn event_lists_are_checked() {
        let none = parse_event_list(&[]).unwrap_err();
        assert!(
            none.0
                .starts_with("events must name at least one of: lead.created"),
            "{none}"
        );
        let error = parse_event_list(&["lead.exploded".into()]).unwrap_err();
        assert!(error.0.contains("unknown event `lead.exploded`"), "{error}");
        let events = parse_event_list(&[
            "lead.saved".into(),
            "lead.saved".into(),
            "lead.deleted".into(),
        ])
        .unwrap();
        assert_eq!(events, vec![EventName::LeadSaved, EventName::LeadDeleted]);
    }
}
