//! Maildirs as a bulk source: the messages of `new/` and `cur/`, and moving the
//! processed ones into another Maildir.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::files::{private_dir, sync_dir};

/// The message files of each Maildir's `new/` then `cur/`, by name; `tmp/` (mail
/// still being written) and dot files are left out.
pub fn files(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in dirs {
        if !dir.join("new").is_dir() && !dir.join("cur").is_dir() {
            bail!("{} is not a Maildir (no new/ or cur/)", dir.display());
        }
        for sub in ["new", "cur"] {
            let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            let mut names: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            names.sort();
            files.extend(names);
        }
    }
    Ok(files)
}

/// Moves message files of a Maildir into the Maildir `dir`, each into the same
/// subdirectory it came from (`new/` or `cur/`) under the same name, so its flags
/// (`:2,FLAGS`) stay; `dir` and its `new/`, `cur/` and `tmp/` are created as needed.
/// A name already taken in `dir` is an error, and that file stays where it was.
pub fn move_into(paths: &[PathBuf], dir: &Path) -> Result<()> {
    for sub in ["new", "cur", "tmp"] {
        private_dir(&dir.join(sub))?;
    }
    let mut touched = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .with_context(|| format!("maildir file {} without a name", path.display()))?;
        let sub = match path.parent().and_then(Path::file_name) {
            Some(s) if s == "new" => "new",
            _ => "cur",
        };
        let to = dir.join(sub).join(name);
        if to.exists() {
            bail!(
                "cannot move {} to {}: a file of that name is there already; \
                 the message is stored, move or remove one of them by hand",
                path.display(),
                to.display()
            );
        }
        std::fs::rename(path, &to)
            .with_context(|| format!("cannot move {} to {}", path.display(), to.display()))?;
        touched.extend([dir.join(sub)]);
        touched.extend(path.parent().map(Path::to_path_buf));
    }
    touched.sort();
    touched.dedup();
    for d in touched {
        sync_dir(&d).with_context(|| format!("cannot sync directory {}", d.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_files_keep_their_subdirectory_and_flags() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("in");
        for sub in ["new", "cur"] {
            std::fs::create_dir_all(from.join(sub)).unwrap();
        }
        std::fs::write(from.join("new/1.host"), "a").unwrap();
        std::fs::write(from.join("cur/2.host:2,RS"), "b").unwrap();
        let to = tmp.path().join("done");
        move_into(&files(std::slice::from_ref(&from)).unwrap(), &to).unwrap();
        assert_eq!(std::fs::read(to.join("new/1.host")).unwrap(), b"a");
        assert_eq!(std::fs::read(to.join("cur/2.host:2,RS")).unwrap(), b"b");
        assert!(to.join("tmp").is_dir());
        assert!(files(&[from]).unwrap().is_empty());
        // A taken name is refused, and the file stays.
        std::fs::write(tmp.path().join("in/new/1.host"), "c").unwrap();
        let err = move_into(&[tmp.path().join("in/new/1.host")], &to).unwrap_err();
        assert!(format!("{err:#}").contains("a file of that name is there already"));
        assert!(tmp.path().join("in/new/1.host").exists());
    }
}
