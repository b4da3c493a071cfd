//! The Proxmox side: the config file grammar, property strings, the typed VM model, storage.cfg.
pub mod schema;
