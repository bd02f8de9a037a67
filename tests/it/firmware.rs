//! Integration tests: firmware.
