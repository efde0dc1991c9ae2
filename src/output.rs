//! Safe output files: every file is written to a temporary file beside its
//! target and renamed over it only once completely written and synced, so a
//! failed write (disk full, file-size limit, a crash) leaves the old file as
//! it was; an output that is one of the inputs is refused.
//!
//! ```
//! use gravity_model::output;
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("result.csv");
//! output::write_atomic(&path, |w| writeln!(w, "a,b\n1,2"))?;
//! assert_eq!(std::fs::read_to_string(&path)?, "a,b\n1,2\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{Error, Location, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `path` through `write`, atomically: nothing replaces the old file
/// unless `write` and the flush and sync all succeed.
///
/// # Errors
///
/// [`ErrorKind::Io`](crate::ErrorKind::Io) if the temporary file cannot be
/// created, written, synced or renamed (the target is then left as it was),
/// or the error `write` returns.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let mut staged = Staged::new();
    staged.add(path, write)?;
    staged.commit()
}

/// Files written to temporaries, renamed over their targets together by
/// [`Staged::commit`]; dropped without a commit, the temporaries are removed
/// and no target is touched.
#[derive(Debug, Default)]
pub struct Staged {
    /// (temporary, target) pairs, in the order added.
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// No files yet.
    pub fn new() -> Staged {
        Staged::default()
    }

    /// Writes the future content of `path` to a temporary file beside it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the staged file cannot be
    /// created or written, or the error `write` returns; nothing already in
    /// place is touched.
    pub fn add<F>(&mut self, path: &Path, write: F) -> Result<()>
    where
        F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
    {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        if path.is_dir() {
            return Err(Error::data(
                Location::new(Some(path.to_owned()), None, None),
                "is a directory, expected a file to write",
            ));
        }
        let (temp, file) = create_temp(path).map_err(io)?;
        // Registered first, so that the temporary is removed on any failure.
        self.files.push((temp, path.to_owned()));
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(io)?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Renames every temporary over its target.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if a rename fails; the files
    /// renamed before it are already in place.
    pub fn commit(mut self) -> Result<()> {
        let files = std::mem::take(&mut self.files);
        for (k, (temp, target)) in files.iter().enumerate() {
            if let Err(source) = std::fs::rename(temp, target) {
                for (t, _) in &files[k..] {
                    let _ = std::fs::remove_file(t);
                }
                return Err(Error::Io {
                    path: target.clone(),
                    source,
                });
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (temp, _) in &self.files {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// A new temporary file in the directory of `path`: `.NAME.PID.N.tmp`.
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_owned());
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(f) => return Ok((temp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// True if `a` and `b` name the same existing file (same device and inode on
/// Unix; the same canonical path elsewhere).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Checks an output path before any work is done: it is none of `inputs`,
/// not a directory, and its directory exists.
///
/// # Errors
///
/// [`ErrorKind::Io`](crate::ErrorKind::Io) if `output` is one of `inputs` or
/// its directory does not exist.
pub fn check_output(output: &Path, inputs: &[&Path]) -> Result<()> {
    let location = || Location::new(Some(output.to_owned()), None, None);
    for input in inputs {
        if same_file(output, input) {
            return Err(Error::data_hint(
                location(),
                format!(
                    "the output is the input file {}: refusing to overwrite it",
                    input.display()
                ),
                "write the output to another file",
            ));
        }
    }
    if output.is_dir() {
        return Err(Error::data(
            location(),
            "is a directory, expected a file to write",
        ));
    }
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::data_hint(
            location(),
            format!("the directory {} does not exist", dir.display()),
            "create the directory first, or write elsewhere",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old\n").unwrap();
        let err = write_atomic(&path, |w| {
            writeln!(w, "new, partial")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        // No temporary is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn staged_files_are_renamed_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(&a, "old a\n").unwrap();
        std::fs::write(&b, "old b\n").unwrap();
        let mut staged = Staged::new();
        staged.add(&a, |w| writeln!(w, "new a")).unwrap();
        assert!(staged
            .add(&b, |_| Err(std::io::Error::other("file too large")))
            .is_err());
        drop(staged);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "old b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        let mut staged = Staged::new();
        staged.add(&a, |w| writeln!(w, "new a")).unwrap();
        staged.add(&b, |w| writeln!(w, "new b")).unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn an_output_that_is_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.csv");
        std::fs::write(&data, "y\n1\n").unwrap();
        let other = dir.path().join(".").join("data.csv");
        let err = check_output(&other, &[&data]).unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert!(check_output(&dir.path().join("new.csv"), &[&data]).is_ok());
        let err = check_output(&dir.path().join("no/such/dir/x.csv"), &[&data]).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(check_output(dir.path(), &[&data]).is_err());
    }
}
