//! `trafficapp`: runs the vehicle-monitoring system until SIGINT or SIGTERM; with
//! `--serve-queries`, only its query pool, on a node other processes reach.

use std::sync::Arc;

use clap::Parser;
use trafficapp::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    trafficapp::telemetry::logs();
    let settings = Settings::parse();
    if settings.serve_queries {
        return serve_queries(settings).await;
    }
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

/// The query node: serves the pool until a signal, or until the pool's supervisor gives up.
async fn serve_queries(settings: Settings) -> std::process::ExitCode {
    let query_node = match trafficapp::cluster::serve_queries(Arc::new(settings)).await {
        Ok(query_node) => query_node,
        Err(e) => {
            tracing::error!(error = %e, "query node could not start");
            eprintln!("trafficapp: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let name = query_node.node.name().to_owned();
    let listen = query_node
        .node
        .local_addr()
        .map_or_else(String::new, |a| a.to_string());
    tracing::info!(node = %name, %listen, "serving queries: start the app with --query-node {name}@{listen}");
    let Some(supervisor) = actor_runtime::Pool::supervisor(&query_node.pool) else {
        eprintln!("trafficapp: the query pool stopped as it started");
        return std::process::ExitCode::FAILURE;
    };
    tokio::select! {
        signal = shutdown_signal() => {
            tracing::info!(signal, "query node stopping");
            actor_runtime::Pool::stop(&query_node.pool);
            supervisor.wait_for_exit().await;
            std::process::ExitCode::SUCCESS
        }
        reason = supervisor.wait_for_exit() => {
            tracing::error!(%reason, "the query pool gave up");
            eprintln!("trafficapp: the query pool stopped: {reason}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// SIGTERM or SIGINT.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        _ => {
            tracing::error!("cannot install signal handlers; stop the query node with SIGKILL");
            std::future::pending().await
        }
    }
}
