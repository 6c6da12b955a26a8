//! How long the emulator takes to answer, for whoever runs it for a class
//! (`GET /_snaplab/metrics`) and for the class load benchmark: every
//! request's time from arrival to its response, kept per kind (the AWS APIs;
//! the data plane, which is SecureCart's disk), and the 5xx count (which
//! should stay 0: every refusal is a 4xx in AWS's shape).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Samples kept per kind: the latest this many (a ring), about 4 MB each at most.
const KEPT: usize = 1_000_000;

#[derive(Debug, Default)]
struct Samples {
    micros: Vec<u32>,
    next: usize,
    count: u64,
}

impl Samples {
    fn add(&mut self, took: Duration) {
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        if self.micros.len() < KEPT {
            self.micros.push(us);
        } else {
            self.micros[self.next] = us;
            self.next = (self.next + 1) % KEPT;
        }
        self.count += 1;
    }

    fn summary(&self) -> serde_json::Value {
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            let i = ((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1);
            sorted.get(i).copied().unwrap_or(0)
        };
        serde_json::json!({
            "count": self.count,
            "p50_us": at(0.50),
            "p90_us": at(0.90),
            "p99_us": at(0.99),
            "max_us": sorted.last().copied().unwrap_or(0),
        })
    }
}

/// Request times since the emulator started.
#[derive(Debug, Default)]
pub struct Metrics {
    aws: Mutex<Samples>,
    data: Mutex<Samples>,
    server_errors: AtomicU64,
}

impl Metrics {
    fn record(&self, data_plane: bool, took: Duration, status: u16) {
        let samples = if data_plane { &self.data } else { &self.aws };
        samples.lock().unwrap_or_else(|p| p.into_inner()).add(took);
        if status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `{"aws": {count, p50_us, p90_us, p99_us, max_us}, "data_plane": {…}, "server_errors": n}`.
    pub fn summary(&self) -> serde_json::Value {
        let lock = |m: &Mutex<Samples>| m.lock().unwrap_or_else(|p| p.into_inner()).summary();
        serde_json::json!({
            "aws": lock(&self.aws),
            "data_plane": lock(&self.data),
            "server_errors": self.server_errors.load(Ordering::Relaxed),
        })
    }
}

/// The middleware: times every request but the metrics' own.
pub async fn timed(State(metrics): State<std::sync::Arc<Metrics>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/_snaplab/metrics" {
        return next.run(request).await;
    }
    let data_plane = path.starts_with("/_snaplab/volumes/") && path.ends_with("/data");
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(data_plane, started.elapsed(), response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_of_the_samples_kept() {
        let m = Metrics::default();
        for us in 1..=100u64 {
            m.record(false, Duration::from_micros(us), 200);
        }
        m.record(true, Duration::from_micros(7), 503);
        let s = m.summary();
        assert_eq!(s["aws"]["count"], 100);
        assert_eq!(s["aws"]["p50_us"], 50);
        assert_eq!(s["aws"]["p99_us"], 99);
        assert_eq!(s["aws"]["max_us"], 100);
        assert_eq!(s["data_plane"]["p99_us"], 7);
        assert_eq!(s["server_errors"], 1);
    }
}
