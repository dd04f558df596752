//! Finding leads by text, for the admin web UI's lead list: a
//! case-insensitive substring of the email or the full name, paged by id
//! like [`super::leads::list`].

use super::leads::Lead;
use super::{Database, StoreResult};

/// Up to `limit` leads after the `after` id, oldest first, whose email or
/// "first last" name contains `text` (ignoring case).
pub async fn search(
    db: &Database,
    account_id: &str,
    text: &str,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Lead>> {
    let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
    let leads = sqlx::query_as::<_, Lead>(
        "SELECT l.id, l.email, l.company, l.first_name, l.last_name, l.phone, \
             l.website, l.position, l.twitter, l.linkedin, l.notes, l.score, l.funnel_stage_id, \
             s.title AS funnel_stage_title, s.position AS funnel_stage_position, l.created_at, l.updated_at \
         FROM leads l LEFT JOIN funnel_stages s ON s.id = l.funnel_stage_id \
         WHERE l.account_id = $1 AND l.id > $2 \
           AND (l.email_key LIKE $3 ESCAPE '\\' \
                OR LOWER(COALESCE(l.first_name, '') || ' ' || COALESCE(l.last_name, '')) LIKE $3 ESCAPE '\\') \
         ORDER BY l.id LIMIT $4",
    )
    .bind(account_id)
    .bind(after.unwrap_or(""))
    .bind(pattern)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(leads)
}

/// `text` with LIKE's wildcards (and the escape character) taken literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn wildcards_are_matched_literally() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape_like("ada"), "ada");
    }
}
