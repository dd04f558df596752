//! Playing a group's lead records in memory, in request order, against the
//! leads the group has locked: which lead each record lands on, what it
//! does to it, and the moves and events that follows. Nothing here touches
//! the database; [`super::write`] writes the outcome in a few statements.
//!
//! A record that fails leaves the state as it was, so the records after it
//! see only what succeeded, as if each had run alone in request order.

use std::collections::HashMap;

use super::{LeadMatch, LeadRecord, RecordSource, SyncBatch, SyncFailure, SyncStatus, Synced};
use crate::domain::actor::Actor;
use crate::domain::funnel::{FunnelMove, StagePosition, plan_move};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::lead::LeadFields;
use crate::domain::webhook::EventName;
use crate::storage::leads::Lead;

/// A lead as the records played so far leave it.
#[derive(Debug, Clone)]
pub(super) struct Known {
    pub(super) id: String,
    pub(super) fields: LeadFields,
    pub(super) stage: Option<String>,
    /// (import, external id) the lead carries.
    pub(super) external: Option<(String, String)>,
    /// The email key the lead had before the group; `None` if the group
    /// creates it.
    pub(super) initial_email: Option<String>,
    /// Whether its row must be written (inserted when `initial_email` is
    /// `None`, updated otherwise).
    pub(super) dirty: bool,
}

impl Known {
    /// A lead as it was read, before the group.
    pub(super) fn existing(
        id: String,
        fields: LeadFields,
        stage: Option<String>,
        external: Option<(String, String)>,
    ) -> Self {
        Self {
            initial_email: Some(fields.email.lookup_key()),
            id,
            fields,
            stage,
            external,
            dirty: false,
        }
    }

    pub(super) fn created(&self) -> bool {
        self.initial_email.is_none()
    }

    /// The row of a lead the group created, as inserted at `now` (without
    /// its stage's title and position).
    pub(super) fn inserted_row(&self, now: i64) -> Lead {
        let mut lead = Lead::inserted(self.id.clone(), &self.fields, now);
        lead.funnel_stage_id.clone_from(&self.stage);
        if let Some((import_id, external_id)) = &self.external {
            lead.external_import_id = Some(import_id.clone());
            lead.external_id = Some(external_id.clone());
        }
        lead
    }
}

/// The leads of one account the group may touch, found by each key.
#[derive(Debug, Default)]
pub(super) struct Leads {
    pub(super) all: Vec<Known>,
    by_id: HashMap<String, usize>,
    by_external: HashMap<(String, String), usize>,
    by_email: HashMap<String, usize>,
}

impl Leads {
    pub(super) fn new(leads: impl IntoIterator<Item = Known>) -> Self {
        let mut all = Self::default();
        for known in leads {
            all.add(known);
        }
        all
    }

    fn add(&mut self, known: Known) -> usize {
        let index = self.all.len();
        self.by_id.insert(known.id.clone(), index);
        self.by_email.insert(known.fields.email.lookup_key(), index);
        if let Some(external) = &known.external {
            self.by_external.insert(external.clone(), index);
        }
        self.all.push(known);
        index
    }

    /// The lead a record names: by uid, then this import's external id,
    /// then email.
    fn find(&self, import_id: &str, matching: &LeadMatch) -> Option<usize> {
        let by_id = matching.lead_id.as_ref().and_then(|id| self.by_id.get(id));
        let by_external = || {
            let external_id = matching.external_id.as_ref()?;
            self.by_external
                .get(&(import_id.to_owned(), external_id.clone()))
        };
        let by_email = || self.by_email.get(&matching.email.as_ref()?.lookup_key());
        by_id.or_else(by_external).or_else(by_email).copied()
    }

    fn set_fields(&mut self, index: usize, fields: LeadFields) {
        let (old, new) = (
            self.all[index].fields.email.lookup_key(),
            fields.email.lookup_key(),
        );
        if old != new {
            self.by_email.remove(&old);
            self.by_email.insert(new, index);
        }
        self.all[index].fields = fields;
    }

    fn set_external(&mut self, index: usize, external: (String, String)) {
        if let Some(old) = self.all[index].external.take() {
            self.by_external.remove(&old);
        }
        self.by_external.insert(external.clone(), index);
        self.all[index].external = Some(external);
    }
}

/// A stage move to write, in the order the records made them.
#[derive(Debug)]
pub(super) struct PlannedMove<'b> {
    pub(super) account_id: &'b str,
    pub(super) stages: &'b [StagePosition],
    pub(super) actor: &'b Actor,
    pub(super) lead_id: String,
    pub(super) plan: FunnelMove,
}

/// An event to record, in the order the records made them.
#[derive(Debug)]
pub(super) struct PlannedEvent<'b> {
    pub(super) account_id: &'b str,
    pub(super) actor: &'b Actor,
    pub(super) lead_id: String,
    pub(super) name: EventName,
    pub(super) previous_stage: Option<String>,
    pub(super) stage_after: Option<String>,
}

/// The moves and events of the records played so far.
#[derive(Debug, Default)]
pub(super) struct Planned<'b> {
    pub(super) moves: Vec<PlannedMove<'b>>,
    pub(super) events: Vec<PlannedEvent<'b>>,
}

/// Plays one record of `batch` against its account's `leads`: on success
/// the state, moves and events include it.
pub(super) fn play<'b>(
    leads: &mut Leads,
    batch: &SyncBatch<'b>,
    stages: &'b [StagePosition],
    record: &LeadRecord,
    planned: &mut Planned<'b>,
) -> Result<Synced, SyncFailure> {
    let matching = &record.matching;
    // The admin API's records match nothing: each creates its lead (and
    // meets a lead holding its email as a taken email, below).
    let (import_id, found) = match batch.source {
        RecordSource::Import(import) => {
            let import_id = import.import_id.as_str();
            let found = leads.find(import_id, matching);
            if found.is_none() {
                if matching.external_id.is_none() && matching.email.is_none() {
                    return Err(SyncFailure::LeadNotFound);
                }
                if !import.create_leads {
                    return Err(SyncFailure::CreationOff);
                }
            }
            (Some(import_id), found)
        }
        RecordSource::AdminCreate => (None, None),
    };
    let current = found.map(|index| &leads.all[index]);
    let before = current.map(|known| known.fields.clone());
    let fields =
        (record.fields)(before.clone()).map_err(|invalid| SyncFailure::InvalidField(invalid.0))?;
    if let Some(holder) = leads
        .by_email
        .get(&fields.email.lookup_key())
        .filter(|holder| Some(**holder) != found)
    {
        return Err(SyncFailure::EmailTaken {
            email: fields.email.as_str().to_owned(),
            holder: leads.all[*holder].id.clone(),
        });
    }
    // A lead keeps the external id of the first import that set one; this
    // import's id replaces only its own.
    let new_external =
        import_id
            .zip(matching.external_id.as_ref())
            .filter(|(import_id, wanted)| {
                current
                    .and_then(|known| known.external.as_ref())
                    .is_none_or(|(owner, id)| owner == import_id && id != *wanted)
            });
    if let Some((import_id, wanted)) = new_external
        && leads
            .by_external
            .get(&(import_id.to_owned(), wanted.clone()))
            .is_some_and(|holder| Some(*holder) != found)
    {
        return Err(SyncFailure::ExternalIdTaken(wanted.clone()));
    }
    let current_stage = current.and_then(|known| known.stage.clone());
    let stage_plan = match &record.stage_id {
        None => None,
        Some(target) => match plan_move(stages, current_stage.as_deref(), target) {
            None => return Err(SyncFailure::InvalidStage),
            Some(FunnelMove::Unchanged) => None,
            Some(plan) => Some(plan),
        },
    };

    // The record succeeds: the state takes it.
    let fields_changed = before.as_ref() != Some(&fields) || new_external.is_some();
    let index = match found {
        Some(index) => {
            leads.set_fields(index, fields);
            index
        }
        None => leads.add(Known {
            id: new_id(IdKind::Lead),
            fields,
            stage: None,
            external: None,
            initial_email: None,
            dirty: true,
        }),
    };
    if let Some((import_id, external_id)) = new_external {
        leads.set_external(index, (import_id.to_owned(), external_id.clone()));
    }
    let created = found.is_none();
    let moved = stage_plan.is_some();
    let known = &mut leads.all[index];
    known.dirty |= fields_changed || moved;
    let stage_after = if moved {
        record.stage_id.clone()
    } else {
        current_stage.clone()
    };
    known.stage.clone_from(&stage_after);
    let lead_id = known.id.clone();

    // The events the admin API emits for the same change.
    let event = |name, previous_stage| PlannedEvent {
        account_id: batch.account_id,
        actor: batch.actor,
        lead_id: lead_id.clone(),
        name,
        previous_stage,
        stage_after: stage_after.clone(),
    };
    if created {
        planned.events.push(event(EventName::LeadCreated, None));
    } else if fields_changed {
        planned.events.push(event(EventName::LeadUpdated, None));
    }
    if let Some(plan) = stage_plan {
        planned
            .events
            .push(event(EventName::LeadStageChanged, current_stage));
        planned.moves.push(PlannedMove {
            account_id: batch.account_id,
            stages,
            actor: batch.actor,
            lead_id: lead_id.clone(),
            plan,
        });
    }
    let status = if created {
        SyncStatus::Created
    } else if fields_changed || moved {
        SyncStatus::Updated
    } else {
        SyncStatus::Unchanged
    };
    Ok(Synced {
        status,
        lead_id,
        lead: None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::InvalidInput;
    use crate::domain::actor::ActorKind;
    use crate::domain::email::EmailAddress;
    use crate::storage::lead_sync::SyncingImport;

    fn email(text: &str) -> EmailAddress {
        EmailAddress::parse(text).expect("a valid email")
    }

    fn fields(address: &str) -> LeadFields {
        LeadFields::with_email(email(address))
    }

    fn stages() -> Vec<StagePosition> {
        ["s1", "s2", "s3"]
            .iter()
            .zip(1..)
            .map(|(id, position)| StagePosition {
                id: (*id).to_owned(),
                position,
            })
            .collect()
    }

    /// A record matching `matching` that sets the email to `new_email` (if
    /// given) and the first name to `first`, and moves the lead to `stage`.
    fn record(
        matching: LeadMatch,
        new_email: Option<&str>,
        first: Option<&str>,
        stage: Option<&str>,
    ) -> LeadRecord {
        let new_email = new_email.map(email);
        let first = first.map(str::to_owned);
        let default_email = matching.email.clone();
        let edit = move |current: Option<LeadFields>| {
            let mut fields = match current {
                Some(fields) => fields,
                None => fields(
                    new_email
                        .as_ref()
                        .or(default_email.as_ref())
                        .ok_or_else(|| InvalidInput("email is required".into()))?
                        .as_str(),
                ),
            };
            if let Some(address) = &new_email {
                fields.email = address.clone();
            }
            if first.is_some() {
                fields.first_name.clone_from(&first);
            }
            Ok(fields)
        };
        LeadRecord {
            named_email: None,
            matching,
            fields: Arc::new(edit),
            stage_id: stage.map(str::to_owned),
        }
    }

    fn by_email(address: &str) -> LeadMatch {
        LeadMatch {
            email: Some(email(address)),
            ..LeadMatch::default()
        }
    }

    fn by_external(id: &str) -> LeadMatch {
        LeadMatch {
            external_id: Some(id.to_owned()),
            ..LeadMatch::default()
        }
    }

    struct Group {
        source: RecordSource,
        actor: Actor,
        stages: Vec<StagePosition>,
    }

    impl Group {
        fn new(create_leads: bool) -> Self {
            Self {
                source: RecordSource::Import(SyncingImport {
                    import_id: "imp_1".into(),
                    create_leads,
                }),
                actor: Actor {
                    kind: ActorKind::WebhookImport,
                    id: "imp_1".into(),
                    name: "CRM".into(),
                },
                stages: stages(),
            }
        }

        /// Plays `records` in order; returns each result and the events' names.
        fn play(
            &self,
            leads: &mut Leads,
            records: &[LeadRecord],
        ) -> (Vec<Result<Synced, SyncFailure>>, Vec<EventName>) {
            let batch = SyncBatch {
                account_id: "acc_1",
                source: &self.source,
                actor: &self.actor,
                records,
            };
            let mut planned = Planned::default();
            let results = records
                .iter()
                .map(|record| play(leads, &batch, &self.stages, record, &mut planned))
                .collect();
            let names = planned.events.iter().map(|event| event.name).collect();
            (results, names)
        }
    }

    fn existing(id: &str, address: &str, stage: Option<&str>) -> Known {
        Known::existing(
            id.to_owned(),
            fields(address),
            stage.map(str::to_owned),
            None,
        )
    }

    #[test]
    fn a_later_record_matches_the_lead_an_earlier_one_created() {
        let group = Group::new(true);
        let mut leads = Leads::default();
        let records = [
            record(
                LeadMatch {
                    external_id: Some("c1".into()),
                    email: Some(email("ada@example.com")),
                    ..LeadMatch::default()
                },
                None,
                None,
                Some("s2"),
            ),
            record(by_external("c1"), None, Some("Ada"), None),
            record(by_email("ADA@example.com"), None, Some("Ada"), Some("s2")),
        ];
        let (results, events) = group.play(&mut leads, &records);
        let statuses: Vec<SyncStatus> = results
            .iter()
            .map(|result| result.as_ref().expect("applied").status)
            .collect();
        assert_eq!(
            statuses,
            [
                SyncStatus::Created,
                SyncStatus::Updated,
                SyncStatus::Unchanged
            ]
        );
        assert_eq!(leads.all.len(), 1);
        let lead = &leads.all[0];
        assert!(lead.created() && lead.dirty);
        assert_eq!(lead.stage.as_deref(), Some("s2"));
        assert_eq!(lead.external, Some(("imp_1".into(), "c1".into())));
        assert_eq!(
            events,
            [
                EventName::LeadCreated,
                EventName::LeadStageChanged,
                EventName::LeadUpdated
            ]
        );
    }

    #[test]
    fn a_failed_record_leaves_the_state_as_it_was() {
        let group = Group::new(true);
        let mut leads = Leads::new([
            existing("lead_a", "a@example.com", Some("s1")),
            existing("lead_b", "b@example.com", None),
        ]);
        let records = [
            // Takes b's email: refused, nothing changes.
            record(
                by_email("a@example.com"),
                Some("b@example.com"),
                Some("X"),
                None,
            ),
            // A stage outside the funnel: refused before the name is set.
            record(by_email("a@example.com"), None, Some("Y"), Some("gone")),
            // Creation of an email another lead holds, matched by external id.
            record(by_external("c9"), Some("a@example.com"), None, None),
        ];
        let (results, events) = group.play(&mut leads, &records);
        assert_eq!(
            results,
            [
                Err(SyncFailure::EmailTaken {
                    email: "b@example.com".into(),
                    holder: "lead_b".into()
                }),
                Err(SyncFailure::InvalidStage),
                Err(SyncFailure::EmailTaken {
                    email: "a@example.com".into(),
                    holder: "lead_a".into()
                }),
            ]
        );
        assert!(events.is_empty());
        assert_eq!(leads.all.len(), 2);
        assert!(leads.all.iter().all(|lead| !lead.dirty));
        assert_eq!(leads.all[0].fields.first_name, None);
    }

    #[test]
    fn an_email_freed_by_one_record_can_be_taken_by_the_next() {
        let group = Group::new(true);
        let mut leads = Leads::new([
            existing("lead_a", "a@example.com", None),
            existing("lead_b", "b@example.com", None),
        ]);
        let records = [
            record(by_email("a@example.com"), Some("z@example.com"), None, None),
            record(by_email("b@example.com"), Some("a@example.com"), None, None),
            record(by_email("b@example.com"), None, None, None),
        ];
        let (results, _) = group.play(&mut leads, &records);
        assert_eq!(
            results[0].as_ref().map(|s| s.status),
            Ok(SyncStatus::Updated)
        );
        assert_eq!(
            results[1].as_ref().map(|s| s.status),
            Ok(SyncStatus::Updated)
        );
        // b's old email is free now: a record naming it creates a lead.
        assert_eq!(
            results[2].as_ref().map(|s| s.status),
            Ok(SyncStatus::Created)
        );
        assert_eq!(leads.all[1].fields.email.as_str(), "a@example.com");
        assert_eq!(leads.all[1].initial_email.as_deref(), Some("b@example.com"));
    }

    #[test]
    fn an_external_id_held_by_another_lead_is_refused_and_creation_can_be_off() {
        let group = Group::new(false);
        let mut held = existing("lead_a", "a@example.com", None);
        held.external = Some(("imp_1".into(), "c1".into()));
        let mut leads = Leads::new([held, existing("lead_b", "b@example.com", None)]);
        let records = [
            record(
                LeadMatch {
                    lead_id: Some("lead_b".into()),
                    external_id: Some("c1".into()),
                    ..LeadMatch::default()
                },
                None,
                None,
                None,
            ),
            record(by_email("new@example.com"), None, None, None),
            record(
                LeadMatch {
                    lead_id: Some("lead_missing".into()),
                    ..LeadMatch::default()
                },
                None,
                None,
                None,
            ),
        ];
        let (results, _) = group.play(&mut leads, &records);
        assert_eq!(
            results,
            [
                Err(SyncFailure::ExternalIdTaken("c1".into())),
                Err(SyncFailure::CreationOff),
                Err(SyncFailure::LeadNotFound),
            ]
        );
    }

    #[test]
    fn admin_creates_match_nothing_and_a_taken_email_names_its_holder() {
        let mut group = Group::new(false);
        group.source = RecordSource::AdminCreate;
        let mut leads = Leads::new([existing("lead_a", "a@example.com", Some("s1"))]);
        let records = [
            LeadRecord::new_lead(fields("new@example.com"), Some("s2".into())),
            // Its email, in other case: refused, naming the lead the
            // record before created.
            LeadRecord::new_lead(fields("NEW@example.com"), None),
            // An existing lead's email: refused, naming it, not updated.
            LeadRecord::new_lead(fields("a@example.com"), None),
            LeadRecord::new_lead(fields("b@example.com"), Some("gone".into())),
        ];
        let (results, events) = group.play(&mut leads, &records);
        let created = results[0].as_ref().expect("created");
        assert_eq!(created.status, SyncStatus::Created);
        assert_eq!(
            results[1..],
            [
                Err(SyncFailure::EmailTaken {
                    email: "NEW@example.com".into(),
                    holder: created.lead_id.clone()
                }),
                Err(SyncFailure::EmailTaken {
                    email: "a@example.com".into(),
                    holder: "lead_a".into()
                }),
                Err(SyncFailure::InvalidStage),
            ]
        );
        assert_eq!(
            events,
            [EventName::LeadCreated, EventName::LeadStageChanged]
        );
        assert_eq!(leads.all.len(), 2);
        assert!(!leads.all[0].dirty, "the existing lead is left alone");
        let new = &leads.all[leads.by_id[&created.lead_id]];
        assert!(new.created());
        assert_eq!(new.stage.as_deref(), Some("s2"));
    }
}
