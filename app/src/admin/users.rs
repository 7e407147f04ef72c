//! Administration > Users.

use domain::{Role, UserRecord};
use leptos::prelude::*;
use leptos_meta::Title;

use super::{Disableable, SetDisabled, StatusToggle};
use crate::error::{AppError, ErrorPage, form_error};

#[server(endpoint = "admin/list_users")]
pub async fn list_users() -> Result<Vec<UserRecord>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.list_users(admin).await?)
}

#[server(endpoint = "admin/create_user")]
pub async fn create_user(
    username: String,
    display_name: String,
    role: String,
    password: String,
    email: Option<String>,
) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    let services = crate::server::services()?;
    let id = services
        .create_user(admin, &username, &display_name, &role, &password)
        .await?;
    if let Some(email) = email.filter(|email| !email.trim().is_empty()) {
        services.set_user_email(admin, id, &email).await?;
    }
    Ok(())
}

#[server(endpoint = "admin/update_user")]
pub async fn update_user(
    id: i64,
    display_name: String,
    role: String,
    password: String,
    email: Option<String>,
) -> Result<(), AppError> {
    let (actor, admin) = crate::server::current_admin().await?;
    let services = crate::server::services()?;
    if let Some(email) = email {
        services
            .set_user_email(admin, domain::UserId(id), &email)
            .await?;
    }
    services
        .update_user(
            admin,
            &actor,
            domain::UserId(id),
            &display_name,
            &role,
            &password,
        )
        .await?;
    Ok(())
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let toggle = ServerAction::<SetDisabled>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                toggle.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <Title text="Users · Tandem"/>
        <h1>"Users"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(users) => view! {
                        <section class="create" aria-label="New user">
                            <h2>"New user"</h2>
                            <ActionForm action=create>
                                <label>"Username" <input name="username" required/></label>
                                <label>"Display name" <input name="display_name" required/></label>
                                <label>"Email (optional)" <input name="email" type="email"/></label>
                                <label>"Role" <RoleSelect selected=Role::Operator/></label>
                                <label>"Password" <input name="password" type="password" autocomplete="new-password" required/></label>
                                <button type="submit">"Create user"</button>
                            </ActionForm>
                            {form_error(create.value())}
                        </section>
                        {form_error(update.value())}
                        {form_error(toggle.value())}
                        <table>
                            <thead><tr><th>"Username"</th><th>"Display name"</th><th>"Email"</th><th>"Role"</th><th>"Status"</th><th>"Edit"</th></tr></thead>
                            <tbody>
                                {users.into_iter().map(|user| view! {
                                    <tr>
                                        <td>{user.username.clone()}</td>
                                        <td>{user.display_name.clone()}</td>
                                        <td>{user.email.clone()}</td>
                                        <td>{user.role.as_str()}</td>
                                        <td><StatusToggle action=toggle kind=Disableable::User id=user.id.0 disabled=user.disabled/></td>
                                        <td>
                                            <details>
                                                <summary>"Edit"</summary>
                                                <ActionForm action=update>
                                                    <input type="hidden" name="id" value=user.id.0/>
                                                    <label>"Display name" <input name="display_name" value=user.display_name required/></label>
                                                    <label>"Email" <input name="email" type="email" value=user.email/></label>
                                                    <label>"Role" <RoleSelect selected=user.role/></label>
                                                    <label>"New password" <input name="password" type="password" autocomplete="new-password" placeholder="unchanged"/></label>
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

#[component]
fn RoleSelect(selected: Role) -> impl IntoView {
    view! {
        <select name="role">
            {[Role::Operator, Role::Admin].map(|role| view! {
                <option value=role.as_str() selected=role == selected>{role.as_str()}</option>
            })}
        </select>
    }
}
