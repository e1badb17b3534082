//! Logging: JSON lines (or human-readable text) filtered by `RUST_LOG`,
//! `info` by default.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_unset| EnvFilter::new("info"));
    // The WebRTC libraries log the ICE passwords of offers at debug level,
    // so they stay at info whatever RUST_LOG requests.
    let filter = ["rtc_ice=info", "rtc=info", "webrtc=info", "rtc_dtls=info"]
        .into_iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, EnvFilter::add_directive);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "pretty" {
        builder.init();
    } else {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    }
}
