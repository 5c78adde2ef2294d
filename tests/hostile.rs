//! Hostile input against a real server on loopback (bodies, encodings,
//! attributes, form fields, SID shapes, stream clients, connection churn, a
//! flooding person), and the replay of inputs the fuzzers keep. One test binary
//! (linking is slow); one module per area, each test with a witness client that
//! must be served throughout.

#[path = "../fuzz/checks.rs"]
mod checks;
#[path = "hostile/connections.rs"]
mod connections;
#[path = "hostile/fixture.rs"]
mod fixture;
#[path = "hostile/fuzz_replay.rs"]
mod fuzz_replay;
#[path = "hostile/input.rs"]
mod input;
#[path = "hostile/rate_limit.rs"]
mod rate_limit;
#[path = "hostile/streams.rs"]
mod streams;
