//! firmware: see DESIGN §3.
