//! mqtt: see DESIGN §3.
