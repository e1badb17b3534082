//! Process-wide counters and gauges, rendered in the Prometheus text
//! format by the server's `/metrics` route.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Open WebSocket connections on this node.
pub static WS_CONNECTIONS: AtomicI64 = AtomicI64::new(0);
/// Bytes queued for sending across all WebSocket connections.
pub static WS_SEND_QUEUE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Frames queued for sending across all WebSocket connections.
pub static WS_SEND_QUEUE_FRAMES: AtomicI64 = AtomicI64::new(0);
/// Connections closed because their send queue filled up.
pub static WS_SLOW_CONSUMER_DISCONNECTS: AtomicU64 = AtomicU64::new(0);
/// Connections closed because the client stopped answering pings.
pub static WS_HEARTBEAT_TIMEOUTS: AtomicU64 = AtomicU64::new(0);
/// `send` frames received from clients.
pub static SEND_FRAMES_RECEIVED: AtomicU64 = AtomicU64::new(0);
/// `send` frames answered (ack or error).
pub static SEND_FRAMES_ANSWERED: AtomicU64 = AtomicU64::new(0);
/// Messages written to the store by this node.
pub static MESSAGES_STORED: AtomicU64 = AtomicU64::new(0);
/// Messages waiting for the group-commit writer.
pub static APPEND_QUEUE: AtomicI64 = AtomicI64::new(0);
/// Transactions the group-commit writer has run.
pub static APPEND_BATCHES: AtomicU64 = AtomicU64::new(0);
/// Ciphertexts that failed to open where they were found.
pub static CIPHERTEXT_REJECTED: AtomicU64 = AtomicU64::new(0);
/// Events received from the broker.
pub static BROKER_EVENTS_RECEIVED: AtomicU64 = AtomicU64::new(0);
/// Events not published to Redis (queue full or Redis unreachable).
pub static BROKER_EVENTS_DROPPED: AtomicU64 = AtomicU64::new(0);
/// Times the Redis subscription was lost and re-established.
pub static BROKER_RECONNECTS: AtomicU64 = AtomicU64::new(0);
/// HTTP requests served.
pub static HTTP_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Renders every metric in the Prometheus text exposition format.
pub fn render() -> String {
    let gauges: [(&str, &str, &AtomicI64); 4] = [
        (
            "kinlink_ws_connections",
            "Open WebSocket connections.",
            &WS_CONNECTIONS,
        ),
        (
            "kinlink_ws_send_queue_bytes",
            "Bytes queued to WebSocket clients.",
            &WS_SEND_QUEUE_BYTES,
        ),
        (
            "kinlink_ws_send_queue_frames",
            "Frames queued to WebSocket clients.",
            &WS_SEND_QUEUE_FRAMES,
        ),
        (
            "kinlink_append_queue_messages",
            "Messages waiting to be stored.",
            &APPEND_QUEUE,
        ),
    ];
    let counters: [(&str, &str, &AtomicU64); 11] = [
        (
            "kinlink_send_frames_received_total",
            "Send frames received from clients.",
            &SEND_FRAMES_RECEIVED,
        ),
        (
            "kinlink_send_frames_answered_total",
            "Send frames answered with an ack or an error.",
            &SEND_FRAMES_ANSWERED,
        ),
        (
            "kinlink_ws_slow_consumer_disconnects_total",
            "Clients disconnected for a full send queue.",
            &WS_SLOW_CONSUMER_DISCONNECTS,
        ),
        (
            "kinlink_ws_heartbeat_timeouts_total",
            "Clients dropped for silence.",
            &WS_HEARTBEAT_TIMEOUTS,
        ),
        (
            "kinlink_messages_stored_total",
            "Messages stored by this node.",
            &MESSAGES_STORED,
        ),
        (
            "kinlink_append_batches_total",
            "Transactions that stored a batch of messages.",
            &APPEND_BATCHES,
        ),
        (
            "kinlink_ciphertext_rejected_total",
            "Ciphertexts that failed to open.",
            &CIPHERTEXT_REJECTED,
        ),
        (
            "kinlink_broker_events_received_total",
            "Events received from the broker.",
            &BROKER_EVENTS_RECEIVED,
        ),
        (
            "kinlink_broker_events_dropped_total",
            "Events not published to Redis.",
            &BROKER_EVENTS_DROPPED,
        ),
        (
            "kinlink_broker_reconnects_total",
            "Broker subscriptions re-established.",
            &BROKER_RECONNECTS,
        ),
        (
            "kinlink_http_requests_total",
            "HTTP requests served.",
            &HTTP_REQUESTS,
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in gauges {
        let _ = writeln!(
            text,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
            value.load(Ordering::Relaxed)
        );
    }
    for (name, help, value) in counters {
        let _ = writeln!(
            text,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Ordering::Relaxed)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_once() {
        let text = render();
        assert_eq!(text.matches("# TYPE").count(), 15);
        assert!(text.contains("kinlink_ws_send_queue_bytes "));
    }
}
