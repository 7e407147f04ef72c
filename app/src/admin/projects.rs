//! Administration > Projects.

use domain::ProjectRecord;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{Disableable, SetDisabled, StatusToggle};
use crate::error::{AppError, ErrorPage, form_error};

#[server(endpoint = "admin/list_projects")]
pub async fn list_projects() -> Result<Vec<ProjectRecord>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.list_projects(admin).await?)
}

#[server(endpoint = "admin/create_project")]
pub async fn create_project(name: String, description: String) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    crate::server::services()?
        .create_project(admin, &name, &description)
        .await?;
    Ok(())
}

#[server(endpoint = "admin/update_project")]
pub async fn update_project(id: i64, name: String, description: String) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    crate::server::services()?
        .update_project(admin, domain::ProjectId(id), &name, &description)
        .await?;
    Ok(())
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let update = ServerAction::<UpdateProject>::new();
    let toggle = ServerAction::<SetDisabled>::new();
    let projects = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                toggle.version().get(),
            )
        },
        |_| list_projects(),
    );
    view! {
        <Title text="Projects · Tandem"/>
        <h1>"Projects"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(projects) => view! {
                        <section class="create" aria-label="New project">
                            <h2>"New project"</h2>
                            <ActionForm action=create>
                                <label>"Name" <input name="name" required/></label>
                                <label>"Description" <input name="description"/></label>
                                <button type="submit">"Create project"</button>
                            </ActionForm>
                            {form_error(create.value())}
                        </section>
                        {form_error(update.value())}
                        {form_error(toggle.value())}
                        <table>
                            <thead><tr><th>"Name"</th><th>"Description"</th><th>"Status"</th><th>"Edit"</th></tr></thead>
                            <tbody>
                                {projects.into_iter().map(|project| view! {
                                    <tr>
                                        <td>{project.name.clone()}</td>
                                        <td>{project.description.clone()}</td>
                                        <td><StatusToggle action=toggle kind=Disableable::Project id=project.id.0 disabled=project.disabled/></td>
                                        <td>
                                            <details>
                                                <summary>"Edit"</summary>
                                                <ActionForm action=update>
                                                    <input type="hidden" name="id" value=project.id.0/>
                                                    <label>"Name" <input name="name" value=project.name required/></label>
                                                    <label>"Description" <input name="description" value=project.description/></label>
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
