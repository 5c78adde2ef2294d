//! Hostile input against a real server on loopback, and the replay of inputs
//! the fuzzers keep. One test binary (linking is slow); one module per area.

#[path = "../fuzz/checks.rs"]
mod checks;
#[path = "hostile/fuzz_replay.rs"]
mod fuzz_replay;
