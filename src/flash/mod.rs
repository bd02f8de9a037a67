//! flash: see DESIGN §3.
