//! Delivers each event to every sink, in order, on one task. `emit` does not
//! wait; `emit_durable` waits until every sink has handled the event — the
//! runner uses it for what a resumed run must find recorded.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::events::{EventSink, LabEvent};

struct Envelope {
    event: LabEvent,
    handled: Option<oneshot::Sender<()>>,
}

/// A cheap handle for emitting from anywhere (observers, samplers).
#[derive(Clone)]
pub struct Emitter {
    tx: mpsc::UnboundedSender<Envelope>,
}

impl Emitter {
    pub fn emit(&self, event: LabEvent) {
        let _ = self.tx.send(Envelope { event, handled: None });
    }

    pub async fn emit_durable(&self, event: LabEvent) {
        let (done, handled) = oneshot::channel();
        if self
            .tx
            .send(Envelope {
                event,
                handled: Some(done),
            })
            .is_ok()
        {
            let _ = handled.await;
        }
    }
}

pub struct EventBus {
    emitter: Emitter,
    pump: JoinHandle<Vec<Box<dyn EventSink>>>,
}

impl EventBus {
    pub fn new(mut sinks: Vec<Box<dyn EventSink>>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Envelope>();
        let pump = tokio::spawn(async move {
            while let Some(envelope) = rx.recv().await {
                for sink in &mut sinks {
                    sink.handle(&envelope.event).await;
                }
                if let Some(done) = envelope.handled {
                    let _ = done.send(());
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

    /// Delivers everything emitted so far, then returns the sinks.
    pub async fn close(self) -> Vec<Box<dyn EventSink>> {
        drop(self.emitter);
        self.pump.await.unwrap_or_default()
    }
}
