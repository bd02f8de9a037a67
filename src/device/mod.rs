//! device: see DESIGN §3.
pub mod blob;
