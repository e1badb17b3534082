//! Full-text search of community posts: SQLite's FTS5 index, or
//! PostgreSQL's text search over a generated column. Only visible posts
//! are found; the caller keeps the hits in groups the reader may read.

use sea_orm::{ConnectionTrait, Statement, Value};

use crate::{Backend, Store, StoreError};

/// Most hits one search returns before the caller's own filtering.
const HITS: i64 = 200;

/// A post that matches a search.
pub struct SearchHit {
    pub post_id: uuid::Uuid,
    pub topic_id: uuid::Uuid,
    pub group_id: uuid::Uuid,
    pub title: String,
    pub body: String,
}

/// Turns what a member typed into an FTS5 query of quoted words, all of
/// which must match, so no character they type is read as query syntax.
fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    /// Finds visible posts whose text or topic title has every word, best
    /// matches first.
    pub async fn search_community(&self, words: &[String]) -> Result<Vec<SearchHit>, StoreError> {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.db.get_database_backend();
        let statement = match self.backend {
            Backend::Sqlite => Statement::from_sql_and_values(
                backend,
                "SELECT post_id, topic_id, group_id, title, body FROM community_search \
                 WHERE community_search MATCH ? ORDER BY rank LIMIT ?",
                [Value::from(fts5_query(words)), Value::from(HITS)],
            ),
            Backend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT p.id AS post_id, p.topic_id, t.group_id, t.title, p.body \
                 FROM community_posts p JOIN community_topics t ON t.id = p.topic_id, \
                 plainto_tsquery('english', $1) q \
                 WHERE p.state = 'visible' AND p.body IS NOT NULL \
                 AND (p.search @@ q OR to_tsvector('english', t.title) @@ q) \
                 ORDER BY ts_rank(p.search, q) DESC, p.created_at DESC LIMIT $2",
                [Value::from(words.join(" ")), Value::from(HITS)],
            ),
        };
        let rows = self.db.query_all_raw(statement).await?;
        rows.into_iter()
            .map(|row| {
                Ok(SearchHit {
                    post_id: row.try_get("", "post_id")?,
                    topic_id: row.try_get("", "topic_id")?,
                    group_id: row.try_get("", "group_id")?,
                    title: row.try_get("", "title")?,
                    body: row.try_get("", "body")?,
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()
            .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn words_are_quoted() {
        let words = vec!["night".to_owned(), "li\"ght".to_owned(), "OR".to_owned()];
        assert_eq!(fts5_query(&words), "\"night\" \"li\"\"ght\" \"OR\"");
    }
}
