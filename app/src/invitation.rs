//! The invitation page (`/invite/{code}`): what the invitation is, and
//! Enter; or a page that says exactly why it does not admit this user.

use domain::InvitationRecord;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::error::{AppError, ErrorPage, form_error};

#[server(endpoint = "invitation")]
pub async fn invitation(code: String) -> Result<InvitationRecord, AppError> {
    let actor = crate::server::current_actor().await?;
    let address = crate::server::client_address().await?;
    Ok(crate::server::services()?
        .invitation(&actor, &code, address)
        .await?)
}

#[server(endpoint = "enter_share")]
pub async fn enter_share(code: String, password: Option<String>) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    let address = crate::server::client_address().await?;
    let id = crate::server::services()?
        .enter_share(
            &actor,
            &code,
            password.as_deref().unwrap_or_default(),
            address,
        )
        .await?;
    leptos_axum::redirect(&format!("/sessions/{id}"));
    Ok(())
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.with(|params| params.get("code").unwrap_or_default());
    let record = Resource::new(code, invitation);
    view! {
        <Title text="Invitation · Tandem"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(record) => view! { <InvitationView record/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InvitationView(record: InvitationRecord) -> impl IntoView {
    let enter = ServerAction::<EnterShare>::new();
    view! {
        <section class="invitation">
            <h1>"Invitation to a session"</h1>
            <dl>
                <dt>"Inviter"</dt><dd>{record.inviter}</dd>
                <dt>"Host"</dt><dd>{record.host_name}</dd>
                <dt>"Account"</dt><dd>{record.login}</dd>
                <dt>"Session start"</dt><dd>{record.started_at}</dd>
                <dt>"Expires"</dt><dd>{record.expires_at}</dd>
                <dt>"Participants"</dt><dd>{record.participants.join(", ")}</dd>
            </dl>
            <ActionForm action=enter>
                <input type="hidden" name="code" value=record.code/>
                {record.needs_password.then(|| view! {
                    <label>"Invitation password" <input name="password" type="password" required/></label>
                })}
                <button type="submit">"Enter"</button>
            </ActionForm>
            {form_error(enter.value())}
        </section>
    }
}
