//! Playing recordings back: who may, where the file is, what the player
//! page shows about it, and the list of my past sessions.

use std::path::{Component, Path, PathBuf};

use db::entities::{host, host_account, om_session, project, user};
use domain::{
    CastMarker, HostAccountId, OmSessionId, PastSessionRecord, RecordingRecord, Role, SessionEnd,
    UserId,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::io::AsyncBufReadExt;

use crate::{Actor, ServiceError, Services, keyframes};

/// A recording the actor may play: its file and what the page shows.
#[derive(Debug, Clone)]
pub struct Recording {
    pub path: PathBuf,
    pub record: RecordingRecord,
}

/// Admins may play any recording; anyone else only the sessions they
/// created. Invited users saw the session live but were not its owner, so
/// they do not get its full history afterwards.
fn may_play(actor: &Actor, creator: UserId) -> bool {
    actor.role == Role::Admin || actor.id == creator
}

/// A stored recording path, if it stays inside the data directory. The
/// server writes these paths itself; the check keeps a tampered row from
/// reaching any other file.
fn inside_data_dir(data_dir: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    let mut components = relative.components().peekable();
    let plain = components.peek().is_some()
        && components.all(|component| matches!(component, Component::Normal(_)));
    plain.then(|| data_dir.join(relative))
}

fn end_of(row: &om_session::Model) -> Option<(String, String)> {
    row.end_reason.as_deref().map(|code| {
        let message = SessionEnd::from_code(code).map_or("The session ended.", |end| end.message());
        (code.to_owned(), message.to_owned())
    })
}

fn unsigned(value: Option<i64>) -> Option<u64> {
    value.and_then(|value| u64::try_from(value).ok())
}

impl Services {
    /// The recording of session `id`, with its markers read from the file.
    pub async fn recording(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Recording, ServiceError> {
        let (row, path) = self.playable(actor, id).await?;
        let (label, project_name) = self
            .account_label(HostAccountId(row.host_account_id))
            .await?;
        let creator = user::Entity::find_by_id(row.creator_id)
            .one(&self.db)
            .await?
            .map(|user| user.username)
            .unwrap_or_default();
        let markers = read_markers(&path)
            .await
            .map_err(|error| ServiceError::Internal(error.into()))?;
        let record = RecordingRecord {
            id,
            creator,
            label,
            project_name,
            started_at: row.started_at.to_rfc3339(),
            ended_at: row.ended_at.map(|at| at.to_rfc3339()),
            ended: end_of(&row),
            duration_ms: unsigned(row.recording_duration_ms),
            size: unsigned(row.recording_size),
            markers,
        };
        Ok(Recording { path, record })
    }

    /// Only the file of session `id`'s recording, for downloading it.
    pub async fn recording_path(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<PathBuf, ServiceError> {
        Ok(self.playable(actor, id).await?.1)
    }

    /// The keyframes of session `id`'s recording, as JSON, for the player
    /// to seek with: those kept beside the recording when the session
    /// ended, or built now. A recording only grows, so keyframes built
    /// while it is still being written hold too: there are just none yet
    /// for what came later.
    pub async fn recording_keyframes(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Vec<u8>, ServiceError> {
        let (row, path) = self.playable(actor, id).await?;
        let ended = row.ended_at.is_some();
        if ended && let Ok(json) = tokio::fs::read(keyframes::kept_beside(&path)).await {
            return Ok(json);
        }
        let json = keyframes::build(path.clone())
            .await
            .map_err(|error| ServiceError::Internal(error.into()))?;
        // Over, but its keyframes were not kept (Tandem stopped first).
        if ended && let Err(error) = keyframes::keep(&path, &json).await {
            tracing::warn!(session = id.0, %error, "keeping a recording's keyframes failed");
        }
        Ok(json)
    }

    /// The actor's own sessions that are over, newest first.
    pub async fn own_past_sessions(
        &self,
        actor: &Actor,
    ) -> Result<Vec<PastSessionRecord>, ServiceError> {
        let rows = om_session::Entity::find()
            .filter(om_session::Column::CreatorId.eq(actor.id.0))
            .filter(om_session::Column::EndedAt.is_not_null())
            .order_by_desc(om_session::Column::StartedAt)
            .order_by_desc(om_session::Column::Id)
            .all(&self.db)
            .await?;
        let mut past = Vec::with_capacity(rows.len());
        for row in rows {
            let (label, project_name) = self
                .account_label(HostAccountId(row.host_account_id))
                .await?;
            past.push(PastSessionRecord {
                id: OmSessionId(row.id),
                label,
                project_name,
                started_at: row.started_at.to_rfc3339(),
                ended_at: row.ended_at.map(|at| at.to_rfc3339()),
                ended: end_of(&row),
                duration_ms: unsigned(row.recording_duration_ms),
                size: unsigned(row.recording_size),
                has_recording: row.recording_path.is_some(),
            });
        }
        Ok(past)
    }

    /// The session's row and its recording's file, when the actor may play
    /// it: `NotFound` for an unknown session or one without a file,
    /// `Forbidden` for someone else's.
    async fn playable(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<(om_session::Model, PathBuf), ServiceError> {
        let row = om_session::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        if !may_play(actor, UserId(row.creator_id)) {
            let object = format!("recording:{id}");
            return Err(self.deny(actor, object, ServiceError::Forbidden).await);
        }
        let path = row
            .recording_path
            .as_deref()
            .and_then(|relative| inside_data_dir(&self.config.data_dir, relative))
            .ok_or(ServiceError::NotFound("recording"))?;
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Err(ServiceError::NotFound("recording"));
        }
        Ok((row, path))
    }

    /// `login@host` and the project of a host account, disabled or not: a
    /// recording outlives the inventory it was made with.
    async fn account_label(&self, id: HostAccountId) -> Result<(String, String), ServiceError> {
        let Some((account, host)) = host_account::Entity::find_by_id(id.0)
            .find_also_related(host::Entity)
            .one(&self.db)
            .await?
        else {
            return Ok((format!("account {id}"), String::new()));
        };
        let Some(host) = host else {
            return Ok((account.login, String::new()));
        };
        let project_name = project::Entity::find_by_id(host.project_id)
            .one(&self.db)
            .await?
            .map(|project| project.name)
            .unwrap_or_default();
        Ok((format!("{}@{}", account.login, host.name), project_name))
    }
}

/// The markers of a recording, read line by line so a long session is
/// never held in memory whole.
async fn read_markers(path: &Path) -> std::io::Result<Vec<CastMarker>> {
    let file = tokio::fs::File::open(path).await?;
    let mut reader = tokio::io::BufReader::new(file);
    let mut line = Vec::new();
    let mut markers = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(markers);
        }
        // Output lines can be long and are the most; a cheap look for the
        // marker code spares decoding nearly all of them.
        if line.windows(3).any(|window| window == b"\"m\"")
            && let Ok(text) = std::str::from_utf8(&line)
            && let Some(marker) = domain::cast_marker(text)
        {
            markers.push(marker);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            id: UserId(id),
            username: format!("user-{id}"),
            display_name: format!("User {id}"),
            role,
            address: None,
        }
    }

    #[test]
    fn admins_play_everything_operators_only_their_own() {
        assert!(may_play(&actor(1, Role::Admin), UserId(2)));
        assert!(may_play(&actor(1, Role::Admin), UserId(1)));
        assert!(may_play(&actor(2, Role::Operator), UserId(2)));
        assert!(!may_play(&actor(3, Role::Operator), UserId(2)));
    }

    #[test]
    fn recording_paths_stay_in_the_data_directory() {
        let data = Path::new("/data");
        assert_eq!(
            inside_data_dir(data, "recordings/session-1-0.cast"),
            Some(PathBuf::from("/data/recordings/session-1-0.cast"))
        );
        assert_eq!(inside_data_dir(data, "../secret.key"), None);
        assert_eq!(inside_data_dir(data, "recordings/../../etc/passwd"), None);
        assert_eq!(inside_data_dir(data, "/etc/passwd"), None);
        assert_eq!(inside_data_dir(data, ""), None);
    }

    #[tokio::test]
    async fn markers_are_read_from_the_file_and_broken_lines_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.cast");
        std::fs::write(
            &path,
            b"{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.0,\"m\",\"control: Alice\"]\n[0.5,\"o\",\"$ \"]\n\xff\xfe,\"m\",\n[1.25,\"m\",\"Bob entered\"]\n[2.0,\"m\",\"cut",
        )
        .unwrap();
        let markers = read_markers(&path).await.unwrap();
        assert_eq!(
            markers,
            [
                CastMarker {
                    seconds: 0.0,
                    label: "control: Alice".to_owned()
                },
                CastMarker {
                    seconds: 1.25,
                    label: "Bob entered".to_owned()
                },
            ]
        );
    }
}
