//! Delivers each event to every sink, in order, on one task. `emit` does not
//! wait (a sink's error is logged); `emit_durable` waits until every sink has
//! handled the event and returns the first sink's error — the runner uses it
//! for what a resumed run must find recorded, and stops when it fails.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::events::{EventSink, LabEvent, SinkError};

struct Envelope {
    event: LabEvent,
    handled: Option<oneshot::Sender<Result<(), SinkError>>>,
}

enum Message {
    Event(Envelope),
    /// Everything queued before this is delivered; then the pump stops,
    /// however many emitters are still around.
    Close,
}

/// A cheap handle for emitting from anywhere (observers, samplers).
#[derive(Clone)]
pub struct Emitter {
    tx: mpsc::UnboundedSender<Message>,
}

impl Emitter {
    /// Queues `event` for every sink; returns at once.
    pub fn emit(&self, event: LabEvent) {
        // A closed bus means the run is over: nobody is left to tell.
        let _ = self.tx.send(Message::Event(Envelope { event, handled: None }));
    }

    /// Queues `event` and waits until every sink has handled it.
    pub async fn emit_durable(&self, event: LabEvent) -> Result<(), SinkError> {
        let name = event.kind.name();
        let (done, handled) = oneshot::channel();
        let closed = || SinkError::event("the event bus", name, "it is closed: the run has ended");
        self.tx
            .send(Message::Event(Envelope {
                event,
                handled: Some(done),
            }))
            .map_err(|_| closed())?;
        handled.await.map_err(|_| closed())?
    }
}

pub struct EventBus {
    emitter: Emitter,
    pump: JoinHandle<Vec<Box<dyn EventSink>>>,
}

impl EventBus {
    pub fn new(mut sinks: Vec<Box<dyn EventSink>>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let pump = tokio::spawn(async move {
            while let Some(Message::Event(envelope)) = rx.recv().await {
                let mut first_error = None;
                for sink in &mut sinks {
                    if let Err(e) = sink.handle(&envelope.event).await {
                        tracing::warn!(run_id = %envelope.event.run_id, error = %e, "a sink missed an event");
                        first_error.get_or_insert(e);
                    }
                }
                if let Some(done) = envelope.handled {
                    let _ = done.send(first_error.map_or(Ok(()), Err));
                }
            }
            sinks
        });
        Self {
            emitter: Emitter { tx },
            pump,
        }
    }

    pub fn emitter(&self) -> Emitter {
        self.emitter.clone()
    }

    /// Delivers everything emitted so far, then returns the sinks. Later
    /// emits go nowhere (a durable one says the bus is closed).
    pub async fn close(self) -> Vec<Box<dyn EventSink>> {
        let _ = self.emitter.tx.send(Message::Close);
        self.pump.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::events::{EventKind, Level};

    /// Remembers the kinds it saw; refuses notices that say "refuse".
    struct Picky(Arc<Mutex<Vec<&'static str>>>);

    #[async_trait::async_trait]
    impl EventSink for Picky {
        async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
            self.0
                .lock()
                .map_err(|_| SinkError::event("picky", "-", "poisoned"))?
                .push(event.kind.name());
            match &event.kind {
                EventKind::Notice { message, .. } if message == "refuse" => {
                    Err(SinkError::event("picky", event.kind.name(), "no"))
                }
                _ => Ok(()),
            }
        }
    }

    fn notice(message: &str) -> LabEvent {
        LabEvent {
            run_id: "run-1".into(),
            at: Utc
                .with_ymd_and_hms(2026, 11, 29, 12, 0, 0)
                .single()
                .unwrap_or_default(),
            kind: EventKind::Notice {
                level: Level::Info,
                message: message.into(),
            },
        }
    }

    #[tokio::test]
    async fn durable_events_report_a_sink_error_and_plain_ones_keep_their_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let bus = EventBus::new(vec![Box::new(Picky(seen.clone()))]);
        let emitter = bus.emitter();
        emitter.emit(notice("refuse")); // logged, not returned
        assert_eq!(emitter.emit_durable(notice("fine")).await, Ok(()));
        let err = emitter.emit_durable(notice("refuse")).await.expect_err("refused");
        assert_eq!(err.sink, "picky");
        assert!(
            err.to_string().contains("picky could not take a notice event: no"),
            "{err}"
        );
        bus.close().await;
        assert_eq!(seen.lock().map(|s| s.len()).unwrap_or(0), 3);
        // After the bus closed, a durable emit says so instead of hanging.
        let late = emitter.emit_durable(notice("late")).await.expect_err("closed");
        assert!(late.message.contains("closed"), "{late}");
    }
}
