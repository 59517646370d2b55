//! The guest SDK plugin authors depend on. Filled by the plugin work (issue 6).
