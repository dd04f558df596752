//! Funnel history: the events written when a lead reaches a stage, and
//! applying a [`FunnelMove`](crate::domain::funnel::FunnelMove) to them
//! inside the caller's transaction.
//!
//! - `events`: reading a lead's history, now or as it stood at a time;
//! - `moves`: one lead's move by the funnel rules (planned by
//!   [`plan_move`](crate::domain::funnel::plan_move)), taking a lead out of
//!   the funnel, and setting leads' current stage;
//! - `reached`: writing the events of the stages moves reach, many leads'
//!   in one statement;
//! - `backward`: backward moves, many leads' in two statements: archiving
//!   the events after each target, adding the targets that have none.

mod backward;
mod events;
mod moves;
mod reached;

pub(crate) use backward::{BackwardMove, archive_after_targets};
pub(crate) use events::{FunnelEvent, list_as_of, list_for_lead};
pub(crate) use moves::{
    LeadMove, MoveOutcome, clear_stage, move_lead, not_a_stage, plan, set_current_stages,
};
pub(crate) use reached::{ReachedStage, insert_reached, reached_rows};
