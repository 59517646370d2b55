//! The wasmtime plugin host. Filled by the plugin work (issue 6).
