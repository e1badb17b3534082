//! Reads the rows of one inventory table that are about a person, as JSON
//! objects of column name to value, for the access export.

use kinlink_core::access_export::{SubjectKind, subject_kind};
use kinlink_core::inventory::Table;
use sea_orm::{DbBackend, FromQueryResult, Statement, Value};
use serde_json::{Map, Value as Json};

use crate::{Store, StoreError};

/// The values that name one person in subject columns of each kind.
#[derive(Clone, Debug, Default)]
pub struct Person {
    pub user_id: Option<uuid::Uuid>,
    /// The ids of the cases that describe the person's own household.
    pub cases: Vec<uuid::Uuid>,
    pub email: Option<String>,
    /// The sign-in throttle's key for the person's account.
    pub account_key: Option<String>,
    pub membership_number: Option<String>,
}

impl Person {
    /// The values a column of `kind` must hold for a row to be about this
    /// person.
    fn values(&self, kind: SubjectKind) -> Vec<Value> {
        match kind {
            SubjectKind::User => self.user_id.map(Value::from).into_iter().collect(),
            SubjectKind::Case => self.cases.iter().copied().map(Value::from).collect(),
            SubjectKind::Email => self.email.clone().map(Value::from).into_iter().collect(),
            SubjectKind::AccountKey => self
                .account_key
                .clone()
                .map(Value::from)
                .into_iter()
                .collect(),
            SubjectKind::MembershipNumber => self
                .membership_number
                .clone()
                .map(Value::from)
                .into_iter()
                .collect(),
            SubjectKind::Other => Vec::new(),
        }
    }
}

impl Store {
    /// Returns the rows of `table` whose subject columns name `person`,
    /// every column included, ordered by the table's first column.
    ///
    /// The table's and columns' names come from the inventory, never from
    /// a request.
    pub async fn rows_about(
        &self,
        table: &Table,
        person: &Person,
    ) -> Result<Vec<Map<String, Json>>, StoreError> {
        let backend = self.db.get_database_backend();
        let mut values: Vec<Value> = Vec::new();
        let mut conditions = Vec::new();
        for column in table.subject_columns {
            let Some(kind) = subject_kind(table.name, column) else {
                continue;
            };
            let matching = person.values(kind);
            if matching.is_empty() {
                continue;
            }
            let mut placeholders = Vec::with_capacity(matching.len());
            for value in matching {
                values.push(value);
                placeholders.push(placeholder(backend, values.len()));
            }
            conditions.push(format!("\"{column}\" IN ({})", placeholders.join(", ")));
        }
        if conditions.is_empty() {
            return Ok(Vec::new());
        }
        let Some((order, _)) = table.columns.first() else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT * FROM \"{}\" WHERE {} ORDER BY \"{order}\"",
            table.name,
            conditions.join(" OR ")
        );
        let statement = Statement::from_sql_and_values(backend, sql, values);
        let rows = Json::find_by_statement(statement).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                Json::Object(map) => Some(map),
                _ => None,
            })
            .collect())
    }
}

fn placeholder(backend: DbBackend, position: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${position}"),
        _ => "?".to_owned(),
    }
}
