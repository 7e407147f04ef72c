//! Projects: the tenants that group hosts.

use db::entities::project;
use domain::{AuditKind, Description, ProjectId, ProjectRecord, ResourceName};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};

use crate::audit::switched;
use crate::error::conflict_on_duplicate;
use crate::{Admin, ServiceError, Services};

const PROJECT: AuditKind = AuditKind::ProjectChanged;

impl Services {
    pub async fn create_project(
        &self,
        admin: Admin,
        name: &str,
        description: &str,
    ) -> Result<ProjectId, ServiceError> {
        let name = ResourceName::parse(name)?;
        let description = Description::parse(description)?;
        let created = project::ActiveModel {
            name: Set(name.to_string()),
            description: Set(description.into_inner()),
            disabled: Set(false),
            created_at: Set(self.now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|error| {
            conflict_on_duplicate(error, format!("a project named {name} already exists"))
        })?;
        self.audit_change(admin, PROJECT, "project", created.id, "created")
            .await;
        Ok(ProjectId(created.id))
    }

    pub async fn update_project(
        &self,
        admin: Admin,
        id: ProjectId,
        name: &str,
        description: &str,
    ) -> Result<(), ServiceError> {
        let name = ResourceName::parse(name)?;
        let description = Description::parse(description)?;
        let mut project: project::ActiveModel = self.find_project(admin, id).await?.into();
        project.name = Set(name.to_string());
        project.description = Set(description.into_inner());
        project.update(&self.db).await.map_err(|error| {
            conflict_on_duplicate(error, format!("a project named {name} already exists"))
        })?;
        self.audit_change(admin, PROJECT, "project", id, "updated")
            .await;
        Ok(())
    }

    /// The hosts of a disabled project disappear from Host Operations.
    pub async fn set_project_disabled(
        &self,
        admin: Admin,
        id: ProjectId,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        let mut project: project::ActiveModel = self.find_project(admin, id).await?.into();
        project.disabled = Set(disabled);
        project.update(&self.db).await?;
        self.audit_change(admin, PROJECT, "project", id, switched(disabled))
            .await;
        Ok(())
    }

    pub async fn list_projects(&self, _admin: Admin) -> Result<Vec<ProjectRecord>, ServiceError> {
        let projects = project::Entity::find()
            .order_by_asc(project::Column::Name)
            .all(&self.db)
            .await?;
        Ok(projects
            .into_iter()
            .map(|project| ProjectRecord {
                id: ProjectId(project.id),
                name: project.name,
                description: project.description,
                disabled: project.disabled,
            })
            .collect())
    }

    pub(crate) async fn find_project(
        &self,
        _admin: Admin,
        id: ProjectId,
    ) -> Result<project::Model, ServiceError> {
        project::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("project"))
    }
}
