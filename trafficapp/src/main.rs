//! `trafficapp`: runs the vehicle-monitoring system until SIGINT or SIGTERM.

use clap::Parser;
use trafficapp::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    trafficapp::telemetry::logs();
    let settings = Settings::parse();
    let running = match trafficapp::start(settings).await {
        Ok(running) => running,
        Err(e) => {
            tracing::error!(error = %e, "trafficapp could not start");
            eprintln!("trafficapp: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(observer) = &running.observer {
        tracing::info!(url = %format!("http://{}/", observer.local_addr()), "observer page");
    }
    let exit = running.controller.run().await;
    tracing::info!(?exit, "trafficapp stopped");
    std::process::ExitCode::SUCCESS
}
