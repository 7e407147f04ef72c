//! Administration > Audit log: every audited event, filtered and paged
//! newest first, with exports of the same search.

use domain::{AuditKind, AuditPage, AuditQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::error::{AppError, ErrorPage};

/// The filter form's fields, as the URL carries them.
const FIELDS: [&str; 7] = ["user", "session", "host", "kind", "from", "to", "before"];

#[server(endpoint = "admin/search_audit_log")]
pub async fn search_audit_log(
    user: String,
    session: String,
    host: String,
    kind: String,
    from: String,
    to: String,
    before: String,
) -> Result<AuditPage, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    let query = AuditQuery::parse(&user, &session, &host, &kind, &from, &to, &before)
        .map_err(services::ServiceError::from)?;
    Ok(crate::server::services()?.audit_page(admin, &query).await?)
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let fields =
        move || query.with(|query| FIELDS.map(|field| query.get(field).unwrap_or_default()));
    let page = Resource::new(fields, |[user, session, host, kind, from, to, before]| {
        search_audit_log(user, session, host, kind, from, to, before)
    });
    view! {
        <Title text="Audit log · Tandem"/>
        <h1>"Audit log"</h1>
        <Filters values=fields()/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(page) => {
                        let [user, session, host, kind, from, to, _] = fields();
                        let search = AuditQuery::parse(&user, &session, &host, &kind, &from, &to, "")
                            .unwrap_or_default();
                        view! { <Rows page search/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A plain GET form: the search lives in the URL, so it can be bookmarked
/// and the exports take the same parameters.
#[component]
fn Filters(values: [String; 7]) -> impl IntoView {
    let [user, session, host, kind, from, to, _] = values;
    view! {
        <form class="filters" method="get" action="/admin/audit" aria-label="Filters">
            <label>"User" <input name="user" value=user/></label>
            <label>"Session" <input name="session" value=session inputmode="numeric"/></label>
            <label>"Host" <input name="host" value=host inputmode="numeric"/></label>
            <label>"Kind"
                <select name="kind">
                    <option value="" selected=kind.is_empty()>"any"</option>
                    {AuditKind::ALL.iter().map(|each| view! {
                        <option value=each.as_str() selected=kind == each.as_str()>{each.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"From" <input name="from" type="datetime-local" value=from/></label>
            <label>"To" <input name="to" type="datetime-local" value=to/></label>
            <button type="submit">"Search"</button>
        </form>
    }
}

#[component]
fn Rows(page: AuditPage, search: AuditQuery) -> impl IntoView {
    let parameters = search.to_query_string();
    let older = page.older.map(|id| {
        let href = match parameters.is_empty() {
            true => format!("/admin/audit?before={id}"),
            false => format!("/admin/audit?{parameters}&before={id}"),
        };
        view! { <a href=href>"Older"</a> }
    });
    let export = |format: &str| format!("/admin/audit/export.{format}?{parameters}");
    view! {
        <p class="exports">
            <a href=export("csv") download="">"Export CSV"</a>
            " "
            <a href=export("jsonl") download="">"Export JSON Lines"</a>
        </p>
        <table aria-label="Audit events">
            <thead>
                <tr>
                    <th>"Time"</th><th>"Actor"</th><th>"Address"</th><th>"Kind"</th>
                    <th>"Session"</th><th>"Host"</th><th>"Object"</th><th>"Outcome"</th><th>"Detail"</th>
                </tr>
            </thead>
            <tbody>
                {page.rows.into_iter().map(|row| view! {
                    <tr>
                        <td>{row.at}</td>
                        <td>{row.actor}</td>
                        <td>{row.address}</td>
                        <td>{row.kind.as_str()}</td>
                        <td>{row.session_id}</td>
                        <td>{row.host_id}</td>
                        <td>{row.object}</td>
                        <td>{row.outcome.as_str()}</td>
                        <td>{row.detail}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {older}
    }
}
