//! Integration tests: fingerprint.
