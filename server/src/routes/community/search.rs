//! Searching what a member may read in the community: the visible posts
//! of open groups and of the approval groups they are in.

use std::collections::{HashMap, HashSet};

use actix_web::web;
use kinlink_core::community::{GroupJoin, GroupMembership};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::SignedIn;
use crate::community::{Author, Authors, Standing};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::state::AppState;

/// Maximum hits one search returns.
const SHOWN: usize = 50;
/// Most characters of a search.
const QUERY_MAX_CHARS: usize = 200;
/// Most words of a search.
const QUERY_MAX_WORDS: usize = 12;
/// Characters of a post shown with a hit.
const EXCERPT_CHARS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
}

#[derive(Serialize)]
pub struct SearchHitView {
    post_id: uuid::Uuid,
    topic_id: uuid::Uuid,
    group_id: uuid::Uuid,
    group_name: String,
    title: String,
    excerpt: String,
    author: Author,
}

/// Returns the words of a search, or the reason it cannot run.
fn words(query: &str) -> Result<Vec<String>, ApiError> {
    let count = query.chars().count();
    if count > QUERY_MAX_CHARS {
        return Err(invalid(
            "q",
            format!("{count} characters is over the limit of {QUERY_MAX_CHARS}"),
        ));
    }
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .filter(|word| !word.is_empty())
        .take(QUERY_MAX_WORDS)
        .map(str::to_lowercase)
        .collect();
    if words.iter().all(|word| word.chars().count() < 2) {
        return Err(invalid(
            "q",
            "give at least one word of two letters or more",
        ));
    }
    Ok(words)
}

/// Searches the posts I may read.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn search(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<SearchQuery>,
) -> Result<web::Json<Vec<SearchHitView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let words = words(&query.q)?;
    let joined: HashSet<uuid::Uuid> = state
        .store
        .community_group_places(user.user_id)
        .await?
        .into_iter()
        .filter(|place| place.state == GroupMembership::Member.as_str())
        .map(|place| place.group_id)
        .collect();
    let readable: HashMap<uuid::Uuid, String> = state
        .store
        .community_groups()
        .await?
        .into_iter()
        .filter(|group| {
            standing.is_moderator()
                || group.join_rule == GroupJoin::Open.as_str()
                || joined.contains(&group.id)
        })
        .map(|group| (group.id, group.name))
        .collect();
    let mut authors = Authors::default();
    let mut views = Vec::new();
    for hit in state.store.search_community(&words).await? {
        let Some(group_name) = readable.get(&hit.group_id) else {
            continue;
        };
        let post = state.store.community_post(hit.post_id).await?;
        views.push(SearchHitView {
            post_id: hit.post_id,
            topic_id: hit.topic_id,
            group_id: hit.group_id,
            group_name: group_name.clone(),
            title: hit.title,
            excerpt: hit.body.chars().take(EXCERPT_CHARS).collect(),
            author: authors.get(&state, post.author_id).await?,
        });
        if views.len() == SHOWN {
            break;
        }
    }
    Ok(web::Json(views))
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn words_of_a_search() {
        let found = words("Night-light, \"bedtime\" OR sleep*").ok();
        assert_eq!(
            found,
            Some(vec![
                "night-light".to_owned(),
                "bedtime".to_owned(),
                "or".to_owned(),
                "sleep".to_owned()
            ])
        );
        assert!(words("a ?").is_err());
        assert!(words(&"x".repeat(201)).is_err());
    }
}
