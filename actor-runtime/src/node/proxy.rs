//! Links and monitors across a connection, as processes the local machinery already knows.
//!
//! A [`RemoteProcess`] stands for an actor of the other node here: linking to it or
//! monitoring it records the local party and sends the signal over; its `Down` and exit
//! signals come back as frames. A [`StandIn`] stands for an actor of the other node that
//! links to or monitors one of ours: the local actor signals it as it would any process, and
//! the stand-in sends the signal over. When the connection is lost, both deliver
//! [`ExitReason::NoConnection`] to every local party, as Erlang does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};

use super::envelope::{Header, SignalMsg, pack};
use super::outbox::Outbox;
use crate::exit::{Down, Exit, ExitReason, MonitorRef, Signal};
use crate::pid::Pid;
use crate::process::{Process, ProcessInfo};
use crate::sync::lock;
use crate::table;

fn send(out: &Outbox, signal: &SignalMsg) {
    // Signals are not refused for room (see `outbox`); a closed connection drops them, and
    // its loss is reported to every party instead.
    let _ = out.data(Header::signal().as_bytes(), &pack(signal));
}

/// An actor of the other node, as local links and monitors see it.
pub(crate) struct RemoteProcess {
    pid: Pid,
    out: Arc<Outbox>,
    state: Mutex<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    watchers: HashMap<MonitorRef, Weak<dyn Process>>,
    links: HashMap<Pid, Weak<dyn Process>>,
    exited: Option<ExitReason>,
    exit_wakers: Vec<Waker>,
}

impl RemoteProcess {
    pub(crate) fn new(pid: Pid, out: Arc<Outbox>) -> RemoteProcess {
        RemoteProcess {
            pid,
            out,
            state: Mutex::new(ProxyState::default()),
        }
    }

    /// The other node reports that the actor a local `monitor` watched stopped.
    pub(crate) fn down(&self, monitor: MonitorRef, reason: ExitReason) {
        let watcher = lock(&self.state).watchers.remove(&monitor);
        if let Some(watcher) = watcher.and_then(|w| w.upgrade()) {
            watcher.signal(Signal::down(Down {
                monitor,
                pid: self.pid,
                reason,
            }));
        }
    }

    /// The other node sends an exit signal from this actor to the local actor `to`.
    pub(crate) fn exit_to(&self, to: Pid, reason: ExitReason, link: bool) {
        if link {
            // Linked no more: the link fired. An unknown link was removed meanwhile.
            if lock(&self.state).links.remove(&to).is_none() {
                return;
            }
        }
        if let Some(target) = table::get(to) {
            if link {
                target.remove_link(self.pid);
            }
            target.signal(Signal::exit(
                Exit {
                    from: self.pid,
                    reason,
                },
                link,
            ));
        }
    }

    /// Records a link to the local `peer` that the other node already made (a spawn with a
    /// link): no signal goes out. `Err` if the connection is lost.
    pub(crate) fn adopt_link(
        &self,
        peer: Pid,
        process: Weak<dyn Process>,
    ) -> Result<(), ExitReason> {
        let mut state = lock(&self.state);
        match &state.exited {
            Some(reason) => Err(reason.clone()),
            None => {
                state.links.insert(peer, process);
                Ok(())
            }
        }
    }

    /// The connection is lost: every local party hears `reason`.
    pub(crate) fn lost(&self, reason: &ExitReason) {
        let (watchers, links, wakers) = {
            let mut state = lock(&self.state);
            if state.exited.is_none() {
                state.exited = Some(reason.clone());
            }
            (
                std::mem::take(&mut state.watchers),
                std::mem::take(&mut state.links),
                std::mem::take(&mut state.exit_wakers),
            )
        };
        for (monitor, watcher) in watchers {
            if let Some(watcher) = watcher.upgrade() {
                watcher.signal(Signal::down(Down {
                    monitor,
                    pid: self.pid,
                    reason: reason.clone(),
                }));
            }
        }
        for (_, linked) in links {
            if let Some(linked) = linked.upgrade() {
                linked.remove_link(self.pid);
                linked.signal(Signal::exit(
                    Exit {
                        from: self.pid,
                        reason: reason.clone(),
                    },
                    true,
                ));
            }
        }
        for waker in wakers {
            waker.wake();
        }
    }
}

impl Process for RemoteProcess {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn signal(&self, signal: Signal) {
        match signal {
            Signal::Exit { exit, link } => {
                if link {
                    lock(&self.state).links.remove(&exit.from);
                }
                send(
                    &self.out,
                    &SignalMsg::Exit {
                        from: exit.from.id(),
                        to: self.pid.id(),
                        reason: exit.reason,
                        link,
                    },
                );
            }
            Signal::Stop(reason) | Signal::Finish(reason) => send(
                &self.out,
                &SignalMsg::Exit {
                    from: Pid::current().unwrap_or(Pid::EXTERNAL).id(),
                    to: self.pid.id(),
                    reason,
                    link: false,
                },
            ),
            // A remote actor monitors nothing through its proxy.
            Signal::Down(_) => {}
        }
    }

    fn add_link(&self, peer: Pid, process: Weak<dyn Process>) -> Result<(), ExitReason> {
        let mut state = lock(&self.state);
        if let Some(reason) = &state.exited {
            return Err(reason.clone());
        }
        state.links.insert(peer, process);
        drop(state);
        send(
            &self.out,
            &SignalMsg::Link {
                from: peer.id(),
                to: self.pid.id(),
            },
        );
        Ok(())
    }

    fn remove_link(&self, peer: Pid) -> bool {
        let mut state = lock(&self.state);
        let exited = state.exited.is_some();
        if state.links.remove(&peer).is_some() && !exited {
            drop(state);
            send(
                &self.out,
                &SignalMsg::Unlink {
                    from: peer.id(),
                    to: self.pid.id(),
                },
            );
        }
        exited
    }

    fn add_watcher(
        &self,
        monitor: MonitorRef,
        watcher: Weak<dyn Process>,
    ) -> Result<(), ExitReason> {
        let watcher_pid = watcher.upgrade().map_or(Pid::EXTERNAL, |w| w.pid());
        let mut state = lock(&self.state);
        if let Some(reason) = &state.exited {
            return Err(reason.clone());
        }
        state.watchers.insert(monitor, watcher);
        drop(state);
        send(
            &self.out,
            &SignalMsg::Monitor {
                monitor: monitor.raw(),
                watcher: watcher_pid.id(),
                target: self.pid.id(),
            },
        );
        Ok(())
    }

    fn remove_watcher(&self, monitor: MonitorRef) {
        if lock(&self.state).watchers.remove(&monitor).is_some() {
            send(
                &self.out,
                &SignalMsg::Demonitor {
                    monitor: monitor.raw(),
                    target: self.pid.id(),
                },
            );
        }
    }

    fn kill(&self) {
        send(&self.out, &SignalMsg::Kill { to: self.pid.id() });
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        lock(&self.state).exited.clone()
    }

    fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason> {
        let mut state = lock(&self.state);
        match &state.exited {
            Some(reason) => Poll::Ready(reason.clone()),
            None => {
                state.exit_wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn parent(&self) -> Option<Pid> {
        None
    }

    fn info(&self) -> Option<ProcessInfo> {
        None
    }
}

/// An actor of the other node that links to or monitors local actors.
pub(crate) struct StandIn {
    pid: Pid,
    out: Arc<Outbox>,
    /// Local actors linked to it.
    links: Mutex<HashMap<Pid, Weak<dyn Process>>>,
}

impl StandIn {
    pub(crate) fn new(pid: Pid, out: Arc<Outbox>) -> StandIn {
        StandIn {
            pid,
            out,
            links: Mutex::new(HashMap::new()),
        }
    }

    /// The connection is lost: local actors linked to it get an exit signal with `reason`.
    pub(crate) fn lost(&self, reason: &ExitReason) {
        let links = std::mem::take(&mut *lock(&self.links));
        for (_, linked) in links {
            if let Some(linked) = linked.upgrade() {
                linked.remove_link(self.pid);
                linked.signal(Signal::exit(
                    Exit {
                        from: self.pid,
                        reason: reason.clone(),
                    },
                    true,
                ));
            }
        }
    }
}

impl Process for StandIn {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn signal(&self, signal: Signal) {
        match signal {
            Signal::Down(down) => send(
                &self.out,
                &SignalMsg::Down {
                    monitor: down.monitor.raw(),
                    target: down.pid.id(),
                    reason: down.reason,
                },
            ),
            Signal::Exit { exit, link } => {
                if link {
                    lock(&self.links).remove(&exit.from);
                }
                send(
                    &self.out,
                    &SignalMsg::Exit {
                        from: exit.from.id(),
                        to: self.pid.id(),
                        reason: exit.reason,
                        link,
                    },
                );
            }
            Signal::Stop(_) | Signal::Finish(_) => {}
        }
    }

    fn add_link(&self, peer: Pid, process: Weak<dyn Process>) -> Result<(), ExitReason> {
        match self.out.closed() {
            Some(reason) => Err(reason),
            None => {
                lock(&self.links).insert(peer, process);
                Ok(())
            }
        }
    }

    fn remove_link(&self, peer: Pid) -> bool {
        lock(&self.links).remove(&peer);
        self.out.closed().is_some()
    }

    fn add_watcher(&self, _: MonitorRef, _: Weak<dyn Process>) -> Result<(), ExitReason> {
        // Local actors monitor remote ones through a `RemoteProcess`, never a stand-in.
        Err(ExitReason::NoProc)
    }

    fn remove_watcher(&self, _: MonitorRef) {}

    fn kill(&self) {}

    fn exit_reason(&self) -> Option<ExitReason> {
        self.out.closed()
    }

    fn poll_exit(&self, _: &mut Context<'_>) -> Poll<ExitReason> {
        Poll::Pending
    }

    fn parent(&self) -> Option<Pid> {
        None
    }

    fn info(&self) -> Option<ProcessInfo> {
        None
    }
}
