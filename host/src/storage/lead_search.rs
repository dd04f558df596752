//! Finding leads by text, for the admin web UI's lead list: a
//! case-insensitive substring of the email or the full name, paged by id
//! like [`super::leads::list`].

use super::leads::{LEAD_SELECT, Lead};
use super::sql::{self, args};
use super::{Database, StoreResult};

/// Up to `limit` leads after the `after` id, oldest first, whose email or
/// "first last" name contains `text` (ignoring case).
pub(crate) async fn search(
    db: &Database,
    account_id: &str,
    text: &str,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Lead>> {
    let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
    sql::fetch_all(
        db.reader(),
        &format!(
            "{LEAD_SELECT} WHERE l.account_id = $1 AND l.id > $2 \
               AND (l.email_key LIKE $3 ESCAPE '\\' \
                    OR LOWER(COALESCE(l.first_name, '') || ' ' || COALESCE(l.last_name, '')) LIKE $3 ESCAPE '\\') \
             ORDER BY l.id LIMIT $4"
        ),
        args![account_id, after.unwrap_or(""), pattern, limit],
    )
    .await
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
