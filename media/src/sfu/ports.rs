//! The UDP ports the SFU binds, one per peer connection, taken in turn
//! from the configured range. webrtc-rs has no port-range setting, so the
//! SFU binds each connection to an explicit address and moves on to the
//! next port when one is taken.

use std::sync::atomic::{AtomicU32, Ordering};

/// Hands out ports of an inclusive range in turn.
pub(crate) struct Ports {
    min: u16,
    span: u32,
    next: AtomicU32,
}

impl Ports {
    /// Creates a range from `min` to `max`, both included. A `max` below
    /// `min` is read as the single port `min`.
    pub fn new(min: u16, max: u16) -> Self {
        Self {
            min,
            span: u32::from(max.max(min) - min) + 1,
            next: AtomicU32::new(0),
        }
    }

    /// Returns how many ports the range contains, at least one.
    pub fn len(&self) -> u32 {
        self.span
    }

    /// Returns the next port to try.
    pub fn next(&self) -> u16 {
        let offset = self.next.fetch_add(1, Ordering::Relaxed) % self.span;
        self.min + u16::try_from(offset).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::Ports;

    #[test]
    fn wraps_around_the_range() {
        let ports = Ports::new(50_000, 50_002);
        let taken: Vec<u16> = (0..5).map(|_| ports.next()).collect();
        assert_eq!(taken, [50_000, 50_001, 50_002, 50_000, 50_001]);
        assert_eq!(ports.len(), 3);
    }

    #[test]
    fn reversed_range_is_one_port() {
        let ports = Ports::new(50_010, 50_000);
        assert_eq!((ports.next(), ports.next()), (50_010, 50_010));
    }
}
