//! The SQLite provenance store.
