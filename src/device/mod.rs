//! device: see DESIGN §3.
