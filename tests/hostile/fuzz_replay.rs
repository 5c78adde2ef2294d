//! Replays every input kept under `fuzz/regressions/` (crashes once found, then
//! fixed) and `fuzz/seeds/` through the fuzz targets' own checks, so a normal
//! `cargo test` catches a regression without cargo-fuzz or a nightly flag.

use std::path::Path;

use super::checks;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for kind in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else { continue };
        for entry in entries {
            let path = entry.expect("readable fuzz dir").path();
            let data = std::fs::read(&path).expect("readable fuzz input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} fails again", path.display());
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn kept_form_inputs_decode_without_panic_and_round_trip() {
    assert!(replay("form", checks::form) >= 5);
}

#[test]
fn kept_token_inputs_are_refused_or_verified_without_panic() {
    assert!(replay("token", checks::token) >= 2);
}

#[test]
fn kept_stream_frame_inputs_parse_and_round_trip() {
    assert!(replay("stream_frames", checks::frames) >= 3);
}

#[test]
fn kept_terminal_text_inputs_come_out_without_controls() {
    assert!(replay("sanitize", checks::sanitize) >= 3);
}

#[test]
fn kept_twilsock_frame_inputs_decode_or_are_refused_and_round_trip() {
    assert!(replay("twilsock_frames", checks::twilsock_frames) >= 3);
}
