//! The data directory is private to the account Tandem runs as: it and
//! every directory in it 0700, every file in it 0600. It holds the SQLite
//! database (sign-ins, sealed secrets), the secret key, the demo host's
//! keys and recordings of every keystroke, so no other local account may
//! list it or read anything in it.
//!
//! Files are created with these modes explicitly (the process umask of
//! 0077 is a second guard, not the only one), and a directory left by an
//! older installation, which created 0755 and 0644, is fixed at start.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;

/// Every permission bit, setuid, setgid and sticky included, so a mode
/// with any of them counts as wrong.
const MODE_BITS: u32 = 0o7777;

/// Creates the data directory, or makes an existing one private again.
pub(crate) fn make_private(data_dir: &Path) -> anyhow::Result<()> {
    create_private_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let changed = restrict_modes(data_dir)?;
    if changed > 0 {
        tracing::info!(
            data_dir = %data_dir.display(),
            changed,
            "took group and other access away in the data directory \
             (directories now 0700, files 0600)"
        );
    }
    Ok(())
}

/// `mkdir -p` with mode 0700 for each directory it creates.
pub(crate) fn create_private_dir_all(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(path)
}

/// Writes a new file (never over an existing one) with mode 0600.
pub(crate) fn write_new_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE_MODE)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Sets `root` and every directory under it to 0700 and every file to
/// 0600; returns how many modes it changed. Symbolic links are left alone
/// and not followed: a mode change through one would reach outside the
/// data directory.
pub(crate) fn restrict_modes(root: &Path) -> anyhow::Result<usize> {
    let mut changed = 0;
    let mut pending: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let metadata = std::fs::symlink_metadata(&path)
            .with_context(|| format!("reading the mode of {}", path.display()))?;
        let wanted = if metadata.is_dir() {
            for entry in
                std::fs::read_dir(&path).with_context(|| format!("listing {}", path.display()))?
            {
                let entry = entry.with_context(|| format!("listing {}", path.display()))?;
                pending.push(entry.path());
            }
            PRIVATE_DIR_MODE
        } else if metadata.is_file() {
            PRIVATE_FILE_MODE
        } else {
            continue;
        };
        let mode = metadata.permissions().mode() & MODE_BITS;
        if mode != wanted {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(wanted))
                .with_context(|| format!("making {} private", path.display()))?;
            tracing::debug!(path = %path.display(), from = format!("{mode:o}"), to = format!("{wanted:o}"), "made private");
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & MODE_BITS
    }

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn an_open_tree_is_made_private_and_counted_once() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("data");
        std::fs::create_dir_all(root.join("recordings/nested")).unwrap();
        std::fs::write(root.join("tandem.db"), "db").unwrap();
        std::fs::write(root.join("recordings/a.cast"), "cast").unwrap();
        std::fs::write(root.join("recordings/nested/b"), "b").unwrap();
        for directory in ["", "recordings", "recordings/nested"] {
            set_mode(&root.join(directory), 0o755);
        }
        set_mode(&root.join("tandem.db"), 0o644);
        set_mode(&root.join("recordings/a.cast"), 0o4755);
        set_mode(&root.join("recordings/nested/b"), 0o600);

        // Five modes were wrong; the file already at 0600 is not counted.
        assert_eq!(restrict_modes(&root).unwrap(), 5);
        for directory in ["", "recordings", "recordings/nested"] {
            assert_eq!(mode(&root.join(directory)), 0o700, "{directory}");
        }
        for file in ["tandem.db", "recordings/a.cast", "recordings/nested/b"] {
            assert_eq!(mode(&root.join(file)), 0o600, "{file}");
        }
        assert_eq!(restrict_modes(&root).unwrap(), 0);
    }

    #[test]
    fn a_symbolic_link_is_not_followed() {
        let parent = tempfile::tempdir().unwrap();
        let outside = parent.path().join("outside.txt");
        std::fs::write(&outside, "not Tandem's").unwrap();
        set_mode(&outside, 0o644);
        let root = parent.path().join("data");
        create_private_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();

        assert_eq!(restrict_modes(&root).unwrap(), 0);
        assert_eq!(mode(&outside), 0o644);
    }

    #[test]
    fn created_directories_and_files_are_private() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("data/deeper");
        make_private(&root).unwrap();
        assert_eq!(mode(&parent.path().join("data")), 0o700);
        assert_eq!(mode(&root), 0o700);
        write_new_private_file(&root.join("key"), b"k").unwrap();
        assert_eq!(mode(&root.join("key")), 0o600);
        assert!(write_new_private_file(&root.join("key"), b"again").is_err());
        assert_eq!(std::fs::read(root.join("key")).unwrap(), b"k");
    }
}
