//! `convo-tui bench media`, tiny, end to end: the real binary spawns its server
//! as a process of its own, moves a file both ways, and reports the server's RSS.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::fresh_database;
use crate::python::{run, show};

fn figure(report: &Value, name: &str) -> f64 {
    let figures = report["figures"].as_array().cloned().unwrap_or_default();
    let found = figures.iter().find(|f| f["name"] == name);
    found.and_then(|f| f["value"].as_f64()).unwrap_or_else(|| panic!("no figure {name:?} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_media_moves_the_file_both_ways_and_reads_the_server_processes_rss() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_convo-tui"));
    cmd.args(["bench", "media", "--json", "--file-mib", "3", "--big-mib", "4"]).env_remove("CONVO_DATABASE_URL");
    let store = match std::env::var("CONVO_TEST_STORE").as_deref() {
        Ok("postgres") => {
            cmd.args(["--database", &fresh_database().await]);
            "postgres"
        }
        _ => "sqlite",
    };
    let out = run(cmd, Duration::from_secs(300)).await;
    assert!(out.status.success(), "{}", show(&out));
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&out)));
    let [both, big] = [&reports[0], &reports[1]];
    assert_eq!((both["scenario"].as_str(), big["scenario"].as_str()), (Some("media"), Some("media-upload-limit")));
    assert!(both["params"].to_string().contains(store), "{both}");
    assert!(figure(both, "upload") > 0.0 && figure(both, "download") > 0.0, "{both}");
    assert!(figure(big, "upload") > 0.0, "{big}");
    for r in [both, big] {
        let (before, peak, after) =
            (figure(r, "server RSS before"), figure(r, "server RSS peak"), figure(r, "server RSS after"));
        assert!(before > 1.0 && peak >= before && after > 1.0, "a live server's RSS: {r}");
        let growth = figure(r, "server RSS growth (peak - before)");
        assert!((growth - (peak - before)).abs() <= 0.2, "growth is peak minus before: {r}");
    }
}
