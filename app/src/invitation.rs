//! The invitation page (`/invite/{code}`): what the invitation is, and
//! Enter; or a page that says exactly why it does not admit this user.

use domain::InvitationRecord;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

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

/// The password typed into a Join with code box, kept in the browser's
/// memory for the invitation page it leads to: never in the URL, gone on
/// reload.
#[derive(Debug, Clone, Copy, Default)]
pub struct PendingInvitationPassword(RwSignal<Option<(String, String)>>);

impl PendingInvitationPassword {
    /// The password typed for this code, if any; it is used once.
    fn take_for(self, code: &str) -> Option<String> {
        let pending = self.0.try_update_untracked(Option::take).flatten()?;
        (pending.0 == code).then_some(pending.1)
    }
}

/// The code as typed, in the form invitation URLs use: upper case, and
/// only letters and digits (people paste codes with spaces or dashes).
fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Join with code: leads to the invitation page of the code, the same page
/// as the invitation URL, under the same rules and limits.
#[component]
pub fn JoinWithCode() -> impl IntoView {
    let pending = expect_context::<PendingInvitationPassword>();
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let navigate = use_navigate();
    let join = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let code = normalise_code(&code.get_untracked());
        if code.is_empty() {
            return;
        }
        let password = password.get_untracked();
        if !password.is_empty() {
            pending.0.set(Some((code.clone(), password)));
        }
        navigate(&format!("/invite/{code}"), Default::default());
    };
    view! {
        <section class="join-with-code" aria-label="Join with code">
            <h2>"Join with code"</h2>
            <form on:submit=join>
                <label>"Invitation code" <input name="code" required autocomplete="off" bind:value=code/></label>
                <label>"Password (if set)" <input name="password" type="password" autocomplete="off" bind:value=password/></label>
                <button type="submit">"Join"</button>
            </form>
        </section>
    }
    // Erased: the pages that embed it are deep enough already.
    .into_any()
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
    let typed_password = expect_context::<PendingInvitationPassword>()
        .take_for(&record.code)
        .unwrap_or_default();
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
                    <label>"Invitation password" <input name="password" type="password" required prop:value=typed_password/></label>
                })}
                <button type="submit">"Enter"</button>
            </ActionForm>
            {form_error(enter.value())}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_code(" ab12-cd34 "), "AB12CD34");
        assert_eq!(normalise_code("x/../y"), "XY");
        assert_eq!(normalise_code("-"), "");
    }
}
