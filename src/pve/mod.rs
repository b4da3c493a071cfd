//! The Proxmox side: the config file grammar, property strings, the schema, the checked VM and
//! typed device views, storage.cfg.
pub mod cluster;
pub mod decode;
pub mod defaults;
pub mod file;
pub mod model;
pub mod props;
pub mod schema;
pub mod storage;
pub mod vm;
