//! Administration > Hosts, with fetching a host's key to confirm and pin.

use domain::{HostRecord, ProjectRecord};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::projects::list_projects;
use super::{Disableable, SetDisabled, StatusToggle};
use crate::error::{AppError, ErrorPage, form_error};

/// A host key shown to the admin before pinning it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedKey {
    pub algorithm: String,
    pub fingerprint: String,
}

#[server(endpoint = "admin/list_hosts")]
pub async fn list_hosts() -> Result<Vec<HostRecord>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.list_hosts(admin).await?)
}

#[server(endpoint = "admin/create_host")]
pub async fn create_host(
    project_id: i64,
    name: String,
    address: String,
    port: String,
    host_key: String,
) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    let form = services::HostForm {
        project_id: domain::ProjectId(project_id),
        name: &name,
        address: &address,
        port: &port,
        host_key: &host_key,
    };
    crate::server::services()?.create_host(admin, form).await?;
    Ok(())
}

#[server(endpoint = "admin/update_host")]
pub async fn update_host(
    id: i64,
    project_id: i64,
    name: String,
    address: String,
    port: String,
    host_key: String,
) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    let form = services::HostForm {
        project_id: domain::ProjectId(project_id),
        name: &name,
        address: &address,
        port: &port,
        host_key: &host_key,
    };
    crate::server::services()?
        .update_host(admin, domain::HostId(id), form)
        .await?;
    Ok(())
}

#[server(endpoint = "admin/fetch_host_key")]
pub async fn fetch_host_key(address: String, port: String) -> Result<FetchedKey, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    let key = crate::server::services()?
        .fetch_host_key(admin, &address, &port)
        .await?;
    Ok(FetchedKey {
        algorithm: key.algorithm,
        fingerprint: key.fingerprint,
    })
}

#[component]
pub fn HostsPage() -> impl IntoView {
    let create = ServerAction::<CreateHost>::new();
    let update = ServerAction::<UpdateHost>::new();
    let toggle = ServerAction::<SetDisabled>::new();
    let hosts = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                toggle.version().get(),
            )
        },
        |_| async { Ok::<_, AppError>((list_hosts().await?, list_projects().await?)) },
    );
    view! {
        <Title text="Hosts · Tandem"/>
        <h1>"Hosts"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match hosts.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok((hosts, projects)) => {
                        let new_host_projects = projects.clone();
                        view! {
                        <section class="create" aria-label="New host">
                            <h2>"New host"</h2>
                            <ActionForm action=create>
                                <HostFields projects=new_host_projects host=None/>
                                <button type="submit">"Create host"</button>
                            </ActionForm>
                            {form_error(create.value())}
                        </section>
                        {form_error(update.value())}
                        {form_error(toggle.value())}
                        <table>
                            <thead><tr><th>"Name"</th><th>"Project"</th><th>"Address"</th><th>"Host key"</th><th>"Status"</th><th>"Edit"</th></tr></thead>
                            <tbody>
                                {hosts.into_iter().map(|host| {
                                    let projects = projects.clone();
                                    view! {
                                        <tr>
                                            <td>{host.name.clone()}</td>
                                            <td>{host.project_name.clone()}</td>
                                            <td>{format!("{}:{}", host.address, host.port)}</td>
                                            <td><code>{host.host_key_fingerprint.clone()}</code></td>
                                            <td><StatusToggle action=toggle kind=Disableable::Host id=host.id.0 disabled=host.disabled/></td>
                                            <td>
                                                <details>
                                                    <summary>"Edit"</summary>
                                                    <ActionForm action=update>
                                                        <input type="hidden" name="id" value=host.id.0/>
                                                        <HostFields projects host=Some(host)/>
                                                        <button type="submit">"Save"</button>
                                                    </ActionForm>
                                                </details>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The fields of the host form, for a new host (`host` is `None`) or an
/// existing one. **Fetch host key** reads the key the host presents and fills
/// it in, for the admin to compare with the host's own `ssh-keygen -lf`.
#[component]
fn HostFields(projects: Vec<ProjectRecord>, host: Option<HostRecord>) -> impl IntoView {
    let address = RwSignal::new(
        host.as_ref()
            .map(|host| host.address.clone())
            .unwrap_or_default(),
    );
    let port = RwSignal::new(
        host.as_ref()
            .map_or("22".to_owned(), |host| host.port.to_string()),
    );
    let host_key = RwSignal::new(
        host.as_ref()
            .map(|host| host.host_key_fingerprint.clone())
            .unwrap_or_default(),
    );
    let fetch = Action::new(move |(address, port): &(String, String)| {
        fetch_host_key(address.clone(), port.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(key)) = fetch.value().get() {
            host_key.set(key.fingerprint);
        }
    });
    let selected_project = host.as_ref().map(|host| host.project_id);
    view! {
        <label>"Project"
            <select name="project_id" required>
                {projects.into_iter().map(|project| view! {
                    <option value=project.id.0 selected=Some(project.id) == selected_project>{project.name}</option>
                }).collect_view()}
            </select>
        </label>
        <label>"Name" <input name="name" value=host.map(|host| host.name) required/></label>
        <label>"Address" <input name="address" bind:value=address required/></label>
        <label>"Port" <input name="port" bind:value=port required/></label>
        <label>"Host key" <input name="host_key" bind:value=host_key placeholder="SHA256:… or ssh-ed25519 AAAA…" required/></label>
        <button type="button" on:click=move |_| { fetch.dispatch((address.get(), port.get())); }>"Fetch host key"</button>
        {move || fetch.value().get().map(|result| match result {
            Ok(key) => view! {
                <p class="fetched-key" role="status">
                    "The host presents the " {key.algorithm} " key " <code>{key.fingerprint}</code>
                    ". Check it against the host before saving."
                </p>
            }.into_any(),
            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        })}
    }
}
