//! Integration tests: flash.
