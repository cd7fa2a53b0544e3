//! On/off pairs for the runtime's telemetry, alternated in one process so both halves see the
//! same machine and the same mode of the scheduler (the "tell" row is bimodal across
//! processes, which made separate processes compare modes rather than code).
//!
//! - metrics: a Prometheus recorder that is switched on and off (a global recorder cannot be
//!   removed, so the switch sits in front of it), plus the per-kind sampler exporting every
//!   second on its own thread, as an application would run it.
//! - timing: [`telemetry::set_message_timing`] on and off, with the recorder on, so each
//!   message pays for its span, its clock reads and its histogram update.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actor_runtime::{introspect, telemetry};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

static RECORDING: AtomicBool = AtomicBool::new(false);

/// Forwards to Prometheus while `RECORDING` is set; hands out no-op handles otherwise.
struct Switch(metrics_exporter_prometheus::PrometheusRecorder);

impl Recorder for Switch {
    fn describe_counter(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        self.0.describe_counter(k, u, d);
    }
    fn describe_gauge(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        self.0.describe_gauge(k, u, d);
    }
    fn describe_histogram(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        self.0.describe_histogram(k, u, d);
    }
    fn register_counter(&self, k: &Key, m: &Metadata<'_>) -> Counter {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_counter(k, m)
        } else {
            Counter::noop()
        }
    }
    fn register_gauge(&self, k: &Key, m: &Metadata<'_>) -> Gauge {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_gauge(k, m)
        } else {
            Gauge::noop()
        }
    }
    fn register_histogram(&self, k: &Key, m: &Metadata<'_>) -> Histogram {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_histogram(k, m)
        } else {
            Histogram::noop()
        }
    }
}

fn install() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(Switch(recorder)).expect("the only recorder");
}

/// Exports the per-kind figures every second until dropped.
struct Sampler(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                introspect::export_metrics();
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        Sampler(stop, Some(thread))
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        if let Some(t) = self.1.take() {
            let _ = t.join();
        }
    }
}

/// `what` is `metrics` or `timing`; `run` measures once. Returns the medians (on, off).
pub(crate) fn on_off(what: &str, rounds: usize, mut run: impl FnMut() -> f64) -> (f64, f64) {
    install();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which half goes first, so warming up favours neither.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for on_now in order {
            let sampler = match what {
                "metrics" => {
                    RECORDING.store(on_now, Ordering::Relaxed);
                    on_now.then(Sampler::start)
                }
                _ => {
                    RECORDING.store(true, Ordering::Relaxed);
                    telemetry::set_message_timing(on_now);
                    None
                }
            };
            let r = run();
            drop(sampler);
            telemetry::set_message_timing(false);
            if on_now { on.push(r) } else { off.push(r) }
        }
    }
    (crate::median(on), crate::median(off))
}
