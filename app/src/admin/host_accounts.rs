//! Administration > Host accounts. A saved secret is never shown again; an
//! admin can only replace it.

use domain::{HostAccountRecord, HostRecord, SecretKind};
use leptos::prelude::*;
use leptos_meta::Title;

use super::hosts::list_hosts;
use super::{Disableable, SetDisabled, StatusToggle};
use crate::error::{AppError, ErrorPage, form_error};

#[server(endpoint = "admin/list_host_accounts")]
pub async fn list_host_accounts() -> Result<Vec<HostAccountRecord>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.list_host_accounts(admin).await?)
}

#[server(endpoint = "admin/create_host_account")]
pub async fn create_host_account(
    host_id: i64,
    login: String,
    secret_kind: String,
    secret: String,
) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    crate::server::services()?
        .create_host_account(
            admin,
            domain::HostId(host_id),
            &login,
            &secret_kind,
            &secret,
        )
        .await?;
    Ok(())
}

#[server(endpoint = "admin/update_host_account")]
pub async fn update_host_account(
    id: i64,
    login: String,
    secret_kind: String,
    secret: String,
) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    crate::server::services()?
        .update_host_account(
            admin,
            domain::HostAccountId(id),
            &login,
            &secret_kind,
            &secret,
        )
        .await?;
    Ok(())
}

#[component]
pub fn HostAccountsPage() -> impl IntoView {
    let create = ServerAction::<CreateHostAccount>::new();
    let update = ServerAction::<UpdateHostAccount>::new();
    let toggle = ServerAction::<SetDisabled>::new();
    let accounts = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                toggle.version().get(),
            )
        },
        |_| async { Ok::<_, AppError>((list_host_accounts().await?, list_hosts().await?)) },
    );
    view! {
        <Title text="Host accounts · Tandem"/>
        <h1>"Host accounts"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok((accounts, hosts)) => view! {
                        <section class="create" aria-label="New host account">
                            <h2>"New host account"</h2>
                            <ActionForm action=create>
                                <label>"Host" <HostSelect hosts/></label>
                                <label>"Login" <input name="login" required/></label>
                                <SecretFields required=true/>
                                <button type="submit">"Create account"</button>
                            </ActionForm>
                            {form_error(create.value())}
                        </section>
                        {form_error(update.value())}
                        {form_error(toggle.value())}
                        <table>
                            <thead><tr><th>"Login"</th><th>"Host"</th><th>"Project"</th><th>"Secret"</th><th>"Status"</th><th>"Edit"</th></tr></thead>
                            <tbody>
                                {accounts.into_iter().map(|account| view! {
                                    <tr>
                                        <td>{account.login.clone()}</td>
                                        <td>{account.host_name}</td>
                                        <td>{account.project_name}</td>
                                        <td>{secret_label(account.secret_kind)}</td>
                                        <td><StatusToggle action=toggle kind=Disableable::HostAccount id=account.id.0 disabled=account.disabled/></td>
                                        <td>
                                            <details>
                                                <summary>"Edit"</summary>
                                                <ActionForm action=update>
                                                    <input type="hidden" name="id" value=account.id.0/>
                                                    <label>"Login" <input name="login" value=account.login required/></label>
                                                    <SecretFields required=false/>
                                                    <button type="submit">"Save"</button>
                                                </ActionForm>
                                            </details>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

fn secret_label(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Password => "password (stored encrypted)",
        SecretKind::PrivateKey => "private key (stored encrypted)",
    }
}

#[component]
fn HostSelect(hosts: Vec<HostRecord>) -> impl IntoView {
    view! {
        <select name="host_id" required>
            {hosts.into_iter().map(|host| view! {
                <option value=host.id.0>{format!("{} ({})", host.name, host.project_name)}</option>
            }).collect_view()}
        </select>
    }
}

/// The secret's kind and value; when editing, an empty value keeps the
/// stored secret.
#[component]
fn SecretFields(required: bool) -> impl IntoView {
    view! {
        <label>"Secret type"
            <select name="secret_kind">
                <option value="password">"Password"</option>
                <option value="private_key">"Private key"</option>
            </select>
        </label>
        <label>"Secret"
            <textarea name="secret" rows="2" required=required autocomplete="off"
                placeholder=if required { "password, or a private key in OpenSSH format" } else { "unchanged" }>
            </textarea>
        </label>
    }
}
