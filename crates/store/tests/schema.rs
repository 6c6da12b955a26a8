//! The two migration sets make one schema: every table, column (in order),
//! kind of type, nullability, primary key, foreign key, unique constraint and index of the SQLite
//! record is the same in the PostgreSQL one, and both ran the same migrations.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;

use snaplab_store::{Location, Store};
use sqlx::{AnyConnection, Connection, Row};

mod support;

/// Opens (so migrates) the record and returns a raw connection to it.
async fn migrated(rec: &support::Record) -> AnyConnection {
    Store::open_at(&rec.location).await.unwrap().close().await;
    let url = match &rec.location {
        Location::Sqlite(path) => format!("sqlite://{}", path.display()),
        Location::Postgres(url) => url.clone(),
    };
    AnyConnection::connect(&url).await.unwrap()
}

async fn strings(conn: &mut AnyConnection, sql: &str) -> BTreeSet<Vec<String>> {
    sqlx::query(sql)
        .fetch_all(conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (0..r.len()).map(|i| r.try_get::<String, _>(i).unwrap()).collect())
        .collect()
}

/// The kind a declared type stands for, the same on both engines.
fn kind(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        "real" | "double precision" => "real",
        other => panic!("a column of type {other}: say which kind it is on both engines"),
    }
}

#[tokio::test]
async fn both_engines_hold_the_same_schema() {
    sqlx::any::install_default_drivers();
    let lite = support::sqlite("schema");
    let pg = support::postgres("schema").await;
    let mut lite = migrated(&lite).await;
    let mut pg = migrated(&pg).await;

    // Columns: table, position, name, kind, nullable, part of the primary key.
    let lite_columns: BTreeSet<Vec<String>> = strings(
        &mut lite,
        "SELECT m.name, CAST(p.cid + 1 AS TEXT), p.name, p.type,
                CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'not null' ELSE 'null' END,
                CASE WHEN p.pk > 0 THEN 'key' ELSE '' END
         FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .await
    .into_iter()
    .map(|mut c| {
        c[3] = kind(&c[3]).to_string();
        c
    })
    .collect();
    let pg_columns: BTreeSet<Vec<String>> = strings(
        &mut pg,
        "SELECT c.table_name::text, c.ordinal_position::text, c.column_name::text, c.data_type::text,
                CASE WHEN c.is_nullable = 'NO' THEN 'not null' ELSE 'null' END,
                CASE WHEN k.column_name IS NULL THEN '' ELSE 'key' END
         FROM information_schema.columns c
         LEFT JOIN information_schema.table_constraints t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY'
         LEFT JOIN information_schema.key_column_usage k
                ON k.constraint_name = t.constraint_name AND k.table_schema = c.table_schema
               AND k.table_name = c.table_name AND k.column_name = c.column_name
         WHERE c.table_schema = 'public' AND c.table_name <> '_sqlx_migrations'",
    )
    .await
    .into_iter()
    .map(|mut c| {
        c[3] = kind(&c[3]).to_string();
        c
    })
    .collect();
    assert!(
        lite_columns.len() > 60,
        "the whole schema: {} columns",
        lite_columns.len()
    );
    assert_eq!(
        lite_columns.difference(&pg_columns).collect::<Vec<_>>(),
        Vec::<&Vec<String>>::new(),
        "columns SQLite has and PostgreSQL has not"
    );
    assert_eq!(lite_columns, pg_columns);

    // Foreign keys: from, to, what a delete does.
    let lite_fks = strings(
        &mut lite,
        "SELECT m.name, f.\"from\", f.\"table\", f.\"to\", f.on_delete
         FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
    )
    .await;
    let pg_fks: BTreeSet<Vec<String>> = strings(
        &mut pg,
        "SELECT cl.relname::text, a.attname::text, rcl.relname::text, ra.attname::text,
                CASE c.confdeltype WHEN 'c' THEN 'CASCADE' ELSE 'NO ACTION' END
         FROM pg_constraint c
         JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class rcl ON rcl.oid = c.confrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND cl.relnamespace = 'public'::regnamespace",
    )
    .await;
    assert!(lite_fks.len() >= 10, "{lite_fks:?}");
    assert_eq!(lite_fks, pg_fks);

    // Indexes made by name.
    let lite_indexes = strings(
        &mut lite,
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .await;
    let pg_indexes = strings(
        &mut pg,
        "SELECT indexname::text, tablename::text FROM pg_indexes
         WHERE schemaname = 'public' AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    )
    .await;
    assert!(!lite_indexes.is_empty());
    assert_eq!(lite_indexes, pg_indexes);

    // UNIQUE constraints (beside the primary keys), by table and column.
    let lite_unique = strings(
        &mut lite,
        "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_index_list(m.name) i
         JOIN pragma_index_info(i.name) c WHERE m.type = 'table' AND i.origin = 'u'",
    )
    .await;
    let pg_unique = strings(
        &mut pg,
        "SELECT cl.relname::text, a.attname::text FROM pg_constraint c
         JOIN pg_class cl ON cl.oid = c.conrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
         WHERE c.contype = 'u' AND cl.relnamespace = 'public'::regnamespace",
    )
    .await;
    assert_eq!(
        lite_unique,
        BTreeSet::from([vec!["learners".to_string(), "name".to_string()]])
    );
    assert_eq!(lite_unique, pg_unique);

    // The same migrations, by version and name, all applied.
    let applied = "SELECT CAST(version AS TEXT), description FROM _sqlx_migrations WHERE success ORDER BY version";
    let lite_applied = strings(&mut lite, applied).await;
    assert!(lite_applied.len() >= 5, "{lite_applied:?}");
    assert_eq!(lite_applied, strings(&mut pg, applied).await);
}
