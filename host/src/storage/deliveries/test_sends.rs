//! Test sends in the delivery log: a sample event sent to a webhook on an
//! admin's request is kept as a delivery of its own (event type
//! [`TEST_EVENT`]) with its one attempt, so that the request and the answer
//! can be read, and the test resent, like any delivery.

use super::attempts::write_attempts;
use super::{AttemptResult, TEST_EVENT};
use crate::storage::sql::args;
use crate::storage::{Database, StoreResult};

/// Writes the test's delivery (`attempt.delivery_id`, the message id it was
/// sent with) and its attempt, which decides the delivery's status.
pub(crate) async fn record_test_send(db: &Database, attempt: AttemptResult) -> StoreResult<()> {
    db.write(move |tx| {
        Box::pin(async move {
            // Inserted as held by the attempt's claim, so that the attempt
            // is written by the same code as every other one.
            tx.execute(
                "INSERT INTO deliveries (id, account_id, webhook_id, event_type, status, \
                     claimed_until, claimed_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6, $5, $5)",
                args![
                    &attempt.delivery_id,
                    &attempt.account_id,
                    &attempt.webhook_id,
                    TEST_EVENT,
                    attempt.attempted_at,
                    &attempt.claim,
                ],
            )
            .await?;
            write_attempts(tx, std::slice::from_ref(&attempt), attempt.attempted_at).await
        })
    })
    .await
}
