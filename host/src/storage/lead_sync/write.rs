//! Writing what a group's lead records did ([`super::plan`]): the changed
//! leads' rows in one `UPDATE` per 100, the new ones in one `INSERT` per
//! 100, in email order (the same order in every transaction, so two
//! groups creating the same leads wait for each other rather than
//! deadlock on the unique indexes).
//!
//! One statement changes many rows, and a unique index is checked row by
//! row as it goes: a lead taking the email another lead of the group gave
//! up would collide with that lead's old value if its row came first. Such
//! leads are written after the others, each once the row holding its email
//! has let it go (see [`write_freed_email_takers`]).

use std::collections::HashSet;

use super::plan::{Known, Leads};
use crate::storage::StoreResult;
use crate::storage::sql::Arg;
use crate::storage::statement::{Row, Statement};
use crate::storage::write_tx::WriteTx;

/// Rows per statement: 20 parameters each at most, far below either
/// engine's cap.
const CHUNK: usize = 100;

/// Writes every lead of `leads` the records changed or created.
pub(super) async fn write_leads(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    leads: &Leads,
    now: i64,
) -> StoreResult<()> {
    let initial_emails: HashSet<&str> = leads
        .all
        .iter()
        .filter_map(|known| known.initial_email.as_deref())
        .collect();
    // An updated lead whose new email another lead had before the group.
    let takes_freed_email = |known: &Known| {
        let email = known.fields.email.lookup_key();
        known.initial_email.as_deref() != Some(email.as_str())
            && initial_emails.contains(email.as_str())
    };
    let (later, updated): (Vec<&Known>, Vec<&Known>) = leads
        .all
        .iter()
        .filter(|known| known.dirty && !known.created())
        .partition(|known| takes_freed_email(known));
    for chunk in updated.chunks(CHUNK) {
        update(tx, account_id, chunk, now).await?;
    }
    write_freed_email_takers(tx, account_id, later, now).await?;
    let mut created: Vec<(String, &Known)> = leads
        .all
        .iter()
        .filter(|known| known.created())
        .map(|known| (known.fields.email.lookup_key(), known))
        .collect();
    created.sort_by(|a, b| a.0.cmp(&b.0));
    let created: Vec<&Known> = created.into_iter().map(|(_, known)| known).collect();
    for chunk in created.chunks(CHUNK) {
        insert(tx, account_id, chunk, now).await?;
    }
    Ok(())
}

/// Writes the leads that take an email another of them had, each once the
/// row holding it has let it go. Emails swapped through other values
/// (a → t, b → a, t → b) form a cycle, broken by parking one lead on a
/// key no email can have (its id) until its turn.
async fn write_freed_email_takers(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    mut pending: Vec<&Known>,
    now: i64,
) -> StoreResult<()> {
    // Emails still held by a row not yet written.
    let mut held: HashSet<String> = pending
        .iter()
        .filter_map(|known| known.initial_email.clone())
        .collect();
    while !pending.is_empty() {
        let (ready, blocked): (Vec<&Known>, Vec<&Known>) = pending
            .into_iter()
            .partition(|known| !held.contains(&known.fields.email.lookup_key()));
        if let Some(parked) = blocked.first().filter(|_| ready.is_empty()) {
            tx.execute(
                "UPDATE leads SET email_key = id WHERE account_id = $1 AND id = $2",
                &[Arg::from(account_id), Arg::from(parked.id.as_str())],
            )
            .await?;
            if let Some(initial) = &parked.initial_email {
                held.remove(initial);
            }
        }
        for chunk in ready.chunks(CHUNK) {
            update(tx, account_id, chunk, now).await?;
        }
        for known in &ready {
            if let Some(initial) = &known.initial_email {
                held.remove(initial);
            }
        }
        pending = blocked;
    }
    Ok(())
}

/// A lead's columns as a `VALUES` row: id, the fields, stage, external id.
fn bind_lead<'a>(row: &mut Row<'_, 'a>, known: &'a Known) {
    let fields = &known.fields;
    let (import_id, external_id) = match &known.external {
        Some((import_id, external_id)) => (Some(import_id.as_str()), Some(external_id.as_str())),
        None => (None, None),
    };
    row.bind(known.id.as_str())
        .bind(fields.email.as_str())
        .bind(fields.email.lookup_key())
        .bind(&fields.company)
        .bind(&fields.first_name)
        .bind(&fields.last_name)
        .bind(&fields.phone)
        .bind(&fields.website)
        .bind(&fields.position)
        .bind(&fields.twitter)
        .bind(&fields.linkedin)
        .bind(&fields.notes)
        .bind(fields.score)
        .bind(known.stage.as_deref())
        .bind(import_id)
        .bind(external_id);
}

async fn update(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    leads: &[&Known],
    now: i64,
) -> StoreResult<()> {
    let mut statement = Statement::new(
        "UPDATE leads SET email = v.column2, email_key = v.column3, company = v.column4, \
             first_name = v.column5, last_name = v.column6, phone = v.column7, \
             website = v.column8, position = v.column9, twitter = v.column10, \
             linkedin = v.column11, notes = v.column12, score = v.column13, \
             funnel_stage_id = v.column14, external_import_id = v.column15, \
             external_id = v.column16, updated_at = ",
    );
    statement.push_bind(now).push(" FROM (VALUES ");
    statement.push_values(leads.iter().copied(), bind_lead);
    // The id list repeats what `v` holds: without it SQLite (3.46, no
    // statistics) scans every lead of the account once per row of `v`.
    statement
        .push(") AS v WHERE leads.account_id = ")
        .push_bind(account_id)
        .push(" AND leads.id IN (")
        .push_list(leads.iter().map(|known| known.id.as_str()))
        .push(") AND leads.id = v.column1");
    tx.execute(statement.sql(), statement.args()).await?;
    Ok(())
}

async fn insert(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    leads: &[&Known],
    now: i64,
) -> StoreResult<()> {
    let mut statement = Statement::new(
        "INSERT INTO leads (id, email, email_key, company, first_name, last_name, phone, \
             website, position, twitter, linkedin, notes, score, funnel_stage_id, \
             external_import_id, external_id, account_id, created_at, updated_at) VALUES ",
    );
    statement.push_values(leads.iter().copied(), |row, known| {
        bind_lead(row, known);
        row.bind(account_id).bind(now).bind(now);
    });
    tx.execute(statement.sql(), statement.args()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::email::EmailAddress;
    use crate::domain::lead::LeadFields;

    const SCHEMA: &str = "CREATE TABLE leads (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, \
        email TEXT NOT NULL, email_key TEXT NOT NULL, company TEXT, first_name TEXT, \
        last_name TEXT, phone TEXT, website TEXT, position TEXT, twitter TEXT, linkedin TEXT, \
        notes TEXT, score BIGINT NOT NULL DEFAULT 0, funnel_stage_id TEXT, \
        external_import_id TEXT, external_id TEXT, created_at BIGINT NOT NULL, \
        updated_at BIGINT NOT NULL); \
        CREATE UNIQUE INDEX leads_account_email ON leads (account_id, email_key);";

    fn fields(address: &str) -> LeadFields {
        LeadFields::with_email(EmailAddress::parse(address).expect("a valid email"))
    }

    /// A lead that had `initial` (`None`: new) and now has `now`.
    fn known(id: &str, initial: Option<&str>, now: &str) -> Known {
        let mut known = Known::existing(id.into(), fields(now), None, None);
        known.initial_email = initial.map(str::to_owned);
        known.dirty = true;
        known
    }

    #[tokio::test]
    async fn swapped_and_chained_emails_are_written_in_an_order_the_index_accepts() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(SCHEMA).expect("schema");
        for id in ["a", "b", "c", "d"] {
            conn.execute(
                "INSERT INTO leads (id, account_id, email, email_key, created_at, updated_at) \
                 VALUES (?1, 'acc', ?1 || '@x.io', ?1 || '@x.io', 0, 0)",
                [id],
            )
            .expect("a lead");
        }
        let leads = Leads::new([
            // a and b swap emails (through another value, record by record).
            known("b", Some("b@x.io"), "a@x.io"),
            known("a", Some("a@x.io"), "b@x.io"),
            // c takes d's email, d takes a new one, a new lead takes c's.
            known("c", Some("c@x.io"), "d@x.io"),
            known("d", Some("d@x.io"), "z@x.io"),
            known("e", None, "c@x.io"),
        ]);
        {
            let mut tx = WriteTx::sqlite(&mut conn);
            write_leads(&mut tx, "acc", &leads, 7)
                .await
                .expect("written without a unique violation");
        }
        let mut select = conn
            .prepare("SELECT id, email_key, updated_at FROM leads ORDER BY id")
            .expect("select");
        let rows: Vec<(String, String, i64)> = select
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("decoded");
        let expected = [
            ("a", "b@x.io"),
            ("b", "a@x.io"),
            ("c", "d@x.io"),
            ("d", "z@x.io"),
            ("e", "c@x.io"),
        ];
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|(id, email, _)| (id.as_str(), email.as_str()))
            .collect();
        assert_eq!(got, expected);
        assert!(rows.iter().all(|row| row.2 == 7));
    }
}
