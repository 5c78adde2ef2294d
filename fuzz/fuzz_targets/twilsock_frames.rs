//! Fuzz target `twilsock_frames`: the property lives in `fuzz/checks.rs`, shared with the
//! regression replay in `tests/hostile.rs`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::twilsock_frames(data));
