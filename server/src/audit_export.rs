//! `/admin/audit/export.csv` and `/admin/audit/export.jsonl`: the audit
//! log search of the Audit log page, as a download of every matching row.
//! The body is streamed a batch at a time, newest first, so an export of
//! millions of rows never sits in memory.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Extension, Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{AuditQuery, AuditRecord};
use services::{Admin, ServiceError, Services};
use tower_sessions::Session;

/// Rows fetched per database round trip.
const BATCH: u64 = 1000;

#[derive(Clone, Copy)]
enum Format {
    Csv,
    JsonLines,
}

pub async fn export(
    Extension(services): Extension<Services>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    web_session: Session,
    Path(file): Path<String>,
    Query(fields): Query<HashMap<String, String>>,
) -> Response {
    let format = match file.as_str() {
        "export.csv" => Format::Csv,
        "export.jsonl" => Format::JsonLines,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let query = match AuditQuery::parse(
        field("user"),
        field("session"),
        field("host"),
        field("kind"),
        field("from"),
        field("to"),
        "",
    ) {
        Ok(query) => query,
        Err(invalid) => return (StatusCode::BAD_REQUEST, invalid.to_string()).into_response(),
    };
    let actor = match services.signed_in_actor(&web_session).await {
        Ok(Some(actor)) => actor.with_address(client.ip()),
        Ok(None) => return (StatusCode::UNAUTHORIZED, "please sign in").into_response(),
        Err(error) => return failure(error),
    };
    let admin = match services.require_admin(&actor, "/admin/audit/export").await {
        Ok(admin) => admin,
        Err(error) => return failure(error),
    };
    // The first batch before the answer starts, so a bad filter (a time
    // that does not parse) is a 400 rather than a broken download.
    let first = match services.audit_rows(admin, &query, BATCH).await {
        Ok(rows) => rows,
        Err(error) => return failure(error),
    };
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "audit.csv"),
        Format::JsonLines => ("application/jsonl", "audit.jsonl"),
    };
    let head = match format {
        Format::Csv => format!("{}\r\n", AuditRecord::CSV_HEADER),
        Format::JsonLines => String::new(),
    };
    let body = Body::from_stream(rows_after(services, admin, query, first, format, head));
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The encoded batches: `first`, then each older one until none is left.
fn rows_after(
    services: Services,
    admin: Admin,
    query: AuditQuery,
    first: Vec<AuditRecord>,
    format: Format,
    head: String,
) -> impl futures::Stream<Item = Result<Bytes, ServiceError>> {
    let state = Some((first, query, head));
    futures::stream::try_unfold(state, move |state| {
        let services = services.clone();
        async move {
            let Some((batch, query, mut text)) = state else {
                return Ok(None);
            };
            if batch.is_empty() && text.is_empty() {
                return Ok(None);
            }
            for row in &batch {
                text.push_str(&encode(row, format));
            }
            let next = match batch.last() {
                Some(last) if batch.len() as u64 == BATCH => {
                    let query = query.older_than(last.id);
                    let rows = services.audit_rows(admin, &query, BATCH).await?;
                    Some((rows, query, String::new()))
                }
                _ => None,
            };
            Ok(Some((Bytes::from(text), next)))
        }
    })
}

fn encode(row: &AuditRecord, format: Format) -> String {
    match format {
        Format::Csv => format!("{}\r\n", row.to_csv()),
        Format::JsonLines => match serde_json::to_string(row) {
            Ok(line) => format!("{line}\n"),
            Err(error) => {
                tracing::error!(%error, row = row.id, "encoding an audit row");
                String::new()
            }
        },
    }
}

fn failure(error: ServiceError) -> Response {
    match error {
        ServiceError::Forbidden => (StatusCode::FORBIDDEN, "not permitted").into_response(),
        ServiceError::Invalid(invalid) => {
            (StatusCode::BAD_REQUEST, invalid.to_string()).into_response()
        }
        other => {
            tracing::error!(error = ?other, "audit export failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
