//! Applications: named supervision trees that a [`AppController`] starts in dependency order, watches,
//! and stops in reverse order on SIGINT/SIGTERM.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Mutex;

use tokio::sync::mpsc;

use crate::addr::Addr;
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::supervisor::{Supervise, Supervisor, SupervisorError, start_supervisor};

/// What an application's exit does to the node (OTP's start types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AppMode {
    /// Its exit, for any reason, stops the node (the default).
    #[default]
    Permanent,
    /// Its exit stops the node unless the reason is [`ExitReason::Normal`].
    Transient,
    /// Its exit is logged; the node carries on.
    Temporary,
}

/// An application: the supervision tree `S` under a name, with a mode and dependencies.
pub struct App<S: Supervise> {
    name: &'static str,
    mode: AppMode,
    after: Vec<&'static str>,
    tree: PhantomData<fn() -> S>,
}

impl<S: Supervise> App<S> {
    /// The tree `S` as application `name`, permanent, with no dependencies.
    #[must_use]
    pub fn new(name: &'static str) -> Self {
        App {
            name,
            mode: AppMode::Permanent,
            after: Vec::new(),
            tree: PhantomData,
        }
    }

    /// Sets the start mode.
    #[must_use]
    pub fn mode(mut self, mode: AppMode) -> Self {
        self.mode = mode;
        self
    }

    /// Declares that application `dependency` must be running before this one starts; it is
    /// stopped after this one.
    #[must_use]
    pub fn after(mut self, dependency: &'static str) -> Self {
        self.after.push(dependency);
        self
    }
}

impl<S: Supervise> fmt::Debug for App<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .field("after", &self.after)
            .finish()
    }
}

/// Starting an application failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppError {
    /// An application with this name is running already.
    AlreadyStarted(&'static str),
    /// A dependency declared with [`App::after`] is not running.
    MissingDependency {
        /// The application being started.
        app: &'static str,
        /// The dependency that is not running.
        needs: &'static str,
    },
    /// The node is stopping.
    Stopping,
    /// The tree failed to start.
    Start {
        /// The application.
        app: &'static str,
        /// Why.
        error: SpawnError<SupervisorError>,
    },
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::AlreadyStarted(app) => write!(f, "application `{app}` is already running"),
            AppError::MissingDependency { app, needs } => write!(
                f,
                "application `{app}` needs `{needs}`, which is not running: start `{needs}` first"
            ),
            AppError::Stopping => f.write_str("the node is stopping"),
            AppError::Start { app, error } => {
                write!(f, "application `{app}` failed to start: {error}")
            }
        }
    }
}

impl std::error::Error for AppError {}

/// Why [`AppController::run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControllerExit {
    /// SIGINT or SIGTERM (or Ctrl-C) arrived; the text names it.
    Signal(&'static str),
    /// The future given to [`AppController::run_until`] completed.
    Requested,
    /// An application whose mode stops the node exited.
    AppExited {
        /// The application.
        app: &'static str,
        /// Its supervisor's exit reason.
        reason: ExitReason,
    },
}

struct Running {
    name: &'static str,
    mode: AppMode,
    supervisor: Addr<Supervisor>,
}

/// Runs applications: starts them in dependency order, stops the node when a permanent one
/// exits, and stops every application, last started first, when asked or signalled.
pub struct AppController {
    running: Mutex<Vec<Running>>,
    exits: mpsc::UnboundedSender<(&'static str, ExitReason)>,
    exit_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<(&'static str, ExitReason)>>,
    stopping: std::sync::atomic::AtomicBool,
    /// Wakes `run_until` when `stop` is called from elsewhere.
    stop_requested: tokio::sync::Notify,
}

impl fmt::Debug for AppController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let apps: Vec<&'static str> = self.lock().iter().map(|r| r.name).collect();
        f.debug_struct("AppController")
            .field("apps", &apps)
            .finish()
    }
}

impl Default for AppController {
    fn default() -> Self {
        AppController::new()
    }
}

impl AppController {
    /// A node with no applications.
    #[must_use]
    pub fn new() -> Self {
        let (exits, exit_rx) = mpsc::unbounded_channel();
        AppController {
            running: Mutex::new(Vec::new()),
            exits,
            exit_rx: tokio::sync::Mutex::new(exit_rx),
            stopping: std::sync::atomic::AtomicBool::new(false),
            stop_requested: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Running>> {
        crate::sync::lock(&self.running)
    }

    /// Starts application `app` and returns its tree's handle.
    ///
    /// # Errors
    /// [`AppError`]: a duplicate name, a dependency not running, or the tree failing to start.
    pub async fn start<S: Supervise>(&self, app: App<S>) -> Result<S, AppError> {
        if self.stopping.load(std::sync::atomic::Ordering::Acquire) {
            return Err(AppError::Stopping);
        }
        {
            let running = self.lock();
            if running.iter().any(|r| r.name == app.name) {
                return Err(AppError::AlreadyStarted(app.name));
            }
            for needs in &app.after {
                if !running.iter().any(|r| r.name == *needs) {
                    return Err(AppError::MissingDependency {
                        app: app.name,
                        needs,
                    });
                }
            }
        }
        let tree = start_supervisor::<S>()
            .await
            .map_err(|error| AppError::Start {
                app: app.name,
                error,
            })?;
        let Some(supervisor) = tree.__supervisor().addr() else {
            return Err(AppError::Start {
                app: app.name,
                error: SpawnError::Init(SupervisorError::Unavailable(crate::CallError::Stopped(
                    ExitReason::NoProc,
                ))),
            });
        };
        let name = app.name;
        {
            let mut running = self.lock();
            // `stop` may have begun while the tree was starting: it would not see this one.
            if self.stopping.load(std::sync::atomic::Ordering::Acquire) {
                drop(running);
                supervisor.stop_with(ExitReason::Shutdown);
                supervisor.wait_for_exit().await;
                return Err(AppError::Stopping);
            }
            running.push(Running {
                name,
                mode: app.mode,
                supervisor: supervisor.clone(),
            });
        }
        // Watched only once recorded, so an early exit is always found.
        let exits = self.exits.clone();
        tokio::spawn(async move {
            let reason = supervisor.wait_for_exit().await;
            let _ = exits.send((name, reason));
        });
        tracing::info!(app = name, mode = ?app.mode, "application started");
        Ok(tree)
    }

    /// The running applications, in start order.
    #[must_use]
    pub fn applications(&self) -> Vec<&'static str> {
        self.lock().iter().map(|r| r.name).collect()
    }

    /// Runs until SIGINT or SIGTERM (Ctrl-C elsewhere) or until an application whose mode
    /// stops the node exits; then stops every application, last started first.
    ///
    /// The signal handlers are installed when `run` is called, before the returned future is
    /// first polled: from then on these signals no longer terminate the process abruptly.
    pub fn run(&self) -> impl Future<Output = ControllerExit> + '_ {
        let signal = ShutdownSignal::install();
        async move { self.run_until(signal.recv()).await }
    }

    /// As [`AppController::run`], but `stop` (rather than a signal) asks the node to stop.
    pub async fn run_until<F: Future<Output = ControllerExit>>(&self, stop: F) -> ControllerExit {
        let mut exits = self.exit_rx.lock().await;
        let exit = {
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    exit = &mut stop => break exit,
                    () = self.stop_requested.notified() => break ControllerExit::Requested,
                    Some((app, reason)) = exits.recv() => {
                        if let Some(exit) = self.app_exited(app, reason) {
                            break exit;
                        }
                    }
                }
            }
        };
        drop(exits);
        self.stop().await;
        exit
    }

    /// Records an application's exit; `Some` if it stops the node.
    fn app_exited(&self, app: &'static str, reason: ExitReason) -> Option<ControllerExit> {
        let mode = {
            let mut running = self.lock();
            let at = running.iter().position(|r| r.name == app)?;
            running.remove(at).mode
        };
        let stops_node = match mode {
            AppMode::Permanent => true,
            AppMode::Transient => !reason.is_normal(),
            AppMode::Temporary => false,
        };
        if stops_node {
            tracing::error!(app, %reason, "application exited; stopping the node");
            Some(ControllerExit::AppExited { app, reason })
        } else {
            tracing::info!(app, %reason, "application exited");
            None
        }
    }

    /// Stops every application, last started first, each tree stopping its children in
    /// reverse order within their shutdown times.
    ///
    /// A [`AppController::run`] in progress then returns [`ControllerExit::Requested`]; applications can no
    /// longer be started.
    pub async fn stop(&self) {
        {
            let _running = self.lock();
            self.stopping
                .store(true, std::sync::atomic::Ordering::Release);
        }
        // A permit, so a `run_until` that is not waiting at this instant still sees it.
        self.stop_requested.notify_one();
        loop {
            let last = self.lock().pop();
            let Some(app) = last else { break };
            tracing::info!(app = app.name, "stopping application");
            app.supervisor.stop_with(ExitReason::Shutdown);
            app.supervisor.wait_for_exit().await;
        }
    }
}

/// SIGINT and SIGTERM listeners (Ctrl-C elsewhere), installed eagerly.
struct ShutdownSignal {
    #[cfg(unix)]
    listeners: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignal {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listeners = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                _ => {
                    tracing::error!(
                        "cannot install signal handlers; the node stops only when asked"
                    );
                    None
                }
            };
            ShutdownSignal { listeners }
        }
        #[cfg(not(unix))]
        {
            ShutdownSignal {}
        }
    }

    async fn recv(self) -> ControllerExit {
        #[cfg(unix)]
        {
            let Some((mut term, mut int)) = self.listeners else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = term.recv() => ControllerExit::Signal("SIGTERM"),
                _ = int.recv() => ControllerExit::Signal("SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => ControllerExit::Signal("Ctrl-C"),
                Err(_) => std::future::pending().await,
            }
        }
    }
}
