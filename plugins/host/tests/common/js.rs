//! JavaScript guests built from source for tests (the host's and the API's, which include this
//! file): componentize-qjs installed from npm with `npm ci` of the examples' lockfile into the
//! target directory, and each plugin built with it. One process at a time, under a file lock,
//! so concurrent test processes neither race `npm ci` nor read a half-written component.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the directory holding `plugins/`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("plugins/examples-js/package.json").is_file())
        .expect("the repository root holds plugins/examples-js")
        .to_path_buf()
}

fn js_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("js-guests")
}

/// Runs `f` holding the JavaScript toolchain's lock, with the path of componentize-qjs
/// (installed first if it is not there yet).
pub fn with_componentize<T>(f: impl FnOnce(&Path) -> T) -> T {
    let dir = js_target_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.join(".lock")).unwrap();
    lock.lock().expect("lock the JavaScript toolchain");
    let tool = dir.join("node_modules/.bin/componentize-qjs");
    if !tool.is_file() {
        let examples = repo_root().join("plugins/examples-js");
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(examples.join(file), dir.join(file)).unwrap();
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("run npm (the JavaScript plugin tests need Node.js 18+ and npm)");
        assert!(
            status.success(),
            "npm ci of componentize-qjs failed ({status})"
        );
    }
    let result = f(&tool);
    drop(lock);
    result
}

/// A digest of everything a JavaScript plugin is built from: its own files, the shared
/// helpers, the WIT and the lockfile of componentize-qjs.
fn source_digest(source: &Path) -> String {
    use sha2::Digest as _;
    let root = repo_root();
    let mut files: Vec<PathBuf> = std::fs::read_dir(source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.push(root.join("plugins/js/turnout.js"));
    files.push(root.join("plugins/wit/automation@0.1.0/automation.wit"));
    files.push(root.join("plugins/examples-js/package-lock.json"));
    let mut hash = sha2::Sha256::new();
    for file in files {
        hash.update(file.to_string_lossy().as_bytes());
        hash.update(std::fs::read(&file).unwrap());
    }
    hex::encode(hash.finalize())
}

/// The component of the JavaScript plugin in `plugins/<rel>` (e.g.
/// `examples-js/welcome-volunteer`), built from source. componentize-qjs does not build the
/// same bytes twice (its snapshot differs), so a build is kept by the digest of its sources:
/// the same sources give the same bytes, whose compiled artifact the host caches on disk.
pub fn js_wasm(rel: &str) -> Vec<u8> {
    let source = repo_root().join("plugins").join(rel);
    let kept = js_target_dir()
        .join("kept")
        .join(format!("{}.wasm", source_digest(&source)));
    with_componentize(|tool| {
        if let Ok(bytes) = std::fs::read(&kept) {
            return bytes;
        }
        let out = js_target_dir().join("out");
        let wasm = turnout_plugin_host::cli::js::build(&source, Some(&out), Some(tool))
            .unwrap_or_else(|e| panic!("build {rel}: {e:#}"));
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::copy(&wasm, &kept).unwrap();
        std::fs::read(&kept).unwrap()
    })
}
