//! The funnel rules, as a pure function of the stage list and the lead's
//! current stage. Storage applies the resulting [`FunnelMove`] in one
//! transaction; keeping the decision here lets it be tested exhaustively
//! without a database.

/// A funnel stage as the rules see it: an id and its place in the funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagePosition {
    pub id: String,
    pub position: i64,
}

/// What moving a lead to a stage does to its funnel history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FunnelMove {
    /// The lead is already at the stage: nothing is written or emitted.
    Unchanged,
    /// A move forward, or the lead's first stage: each stage in `backfill`
    /// (in funnel order) gets a `backfilled` event, then `target` an event.
    Forward {
        backfill: Vec<String>,
        target: String,
    },
    /// A move backward: active events of stages after `target_position` are
    /// archived; the target becomes current.
    Backward {
        target: String,
        target_position: i64,
    },
}

/// Decides what moving a lead from `current` to `target` means.
///
/// `stages` is the account's live funnel in any order. A `current` stage
/// that is no longer in the funnel counts as no stage, so the move backfills
/// from the start. Returns `None` when `target` is not a live stage.
pub(crate) fn plan_move(
    stages: &[StagePosition],
    current: Option<&str>,
    target: &str,
) -> Option<FunnelMove> {
    let target_position = stages.iter().find(|stage| stage.id == target)?.position;
    if current == Some(target) {
        return Some(FunnelMove::Unchanged);
    }
    let current_position = current
        .and_then(|id| stages.iter().find(|stage| stage.id == id))
        .map_or(0, |stage| stage.position);

    if target_position < current_position {
        return Some(FunnelMove::Backward {
            target: target.to_owned(),
            target_position,
        });
    }
    let mut skipped: Vec<&StagePosition> = stages
        .iter()
        .filter(|stage| stage.position > current_position && stage.position < target_position)
        .collect();
    skipped.sort_by_key(|stage| stage.position);
    Some(FunnelMove::Forward {
        backfill: skipped.into_iter().map(|stage| stage.id.clone()).collect(),
        target: target.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funnel() -> Vec<StagePosition> {
        // Deliberately out of order: positions, not slice order, decide.
        [("s3", 3), ("s1", 1), ("s4", 4), ("s2", 2)]
            .into_iter()
            .map(|(id, position)| StagePosition {
                id: id.into(),
                position,
            })
            .collect()
    }

    fn forward(backfill: &[&str], target: &str) -> Option<FunnelMove> {
        Some(FunnelMove::Forward {
            backfill: backfill.iter().map(|s| s.to_string()).collect(),
            target: target.into(),
        })
    }

    #[test]
    fn first_stage_backfills_from_the_start_of_the_funnel() {
        assert_eq!(
            plan_move(&funnel(), None, "s3"),
            forward(&["s1", "s2"], "s3")
        );
        assert_eq!(plan_move(&funnel(), None, "s1"), forward(&[], "s1"));
    }

    #[test]
    fn forward_backfills_only_the_stages_in_between() {
        assert_eq!(
            plan_move(&funnel(), Some("s1"), "s4"),
            forward(&["s2", "s3"], "s4")
        );
        assert_eq!(plan_move(&funnel(), Some("s2"), "s3"), forward(&[], "s3"));
    }

    #[test]
    fn same_stage_is_unchanged() {
        assert_eq!(
            plan_move(&funnel(), Some("s2"), "s2"),
            Some(FunnelMove::Unchanged)
        );
    }

    #[test]
    fn backward_archives_after_the_target() {
        assert_eq!(
            plan_move(&funnel(), Some("s4"), "s2"),
            Some(FunnelMove::Backward {
                target: "s2".into(),
                target_position: 2
            })
        );
    }

    #[test]
    fn a_deleted_current_stage_counts_as_none() {
        assert_eq!(
            plan_move(&funnel(), Some("gone"), "s2"),
            forward(&["s1"], "s2")
        );
    }

    #[test]
    fn unknown_target_is_refused() {
        assert_eq!(plan_move(&funnel(), Some("s1"), "nope"), None);
    }
}
