//! Links and monitors across a connection, as processes the local machinery already knows.
//!
//! A [`RemoteProcess`] stands for an actor of the other node here: linking to it or
//! monitoring it records the local party and sends the signal over; its `Down` and exit
//! signals come back as frames. A [`StandIn`] stands for an actor of the other node that
//! links to or monitors one of ours: the local actor signals it as it would any process, and
//! the stand-in sends the signal over. When the connection is lost, both deliver
//! [`ExitReason::NoConnection`] to every local party, as Erlang does.
//!
//! Each connection keeps one table of each ([`Proxies`], [`StandIns`]). A record stays in its
//! table exactly while some local party needs it (a link, a monitor, or an attach in
//! progress) and leaves it with the last one, so a long-lived connection holds records only
//! for the links and monitors alive now.

use std::collections::{HashMap, HashSet};
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

/// The actors of the other node that local actors link to or monitor, by id.
pub(crate) struct Proxies {
    map: Mutex<HashMap<u64, Arc<RemoteProcess>>>,
    /// The same connection's stand-ins: a link the other node made is held there, and an
    /// unlink made through a proxy takes it back there too.
    standins: Arc<StandIns>,
}

impl Proxies {
    /// The proxies of a connection, beside its `standins` (which learn where they are).
    pub(crate) fn new(standins: Arc<StandIns>) -> Arc<Proxies> {
        Arc::new_cyclic(|me| {
            let _ = standins.proxies.set(me.clone());
            Proxies {
                map: Mutex::new(HashMap::new()),
                standins,
            }
        })
    }

    /// The proxy of the other node's actor `id` (`pid` here), made if there is none.
    pub(crate) fn proxy(
        self: &Arc<Self>,
        id: u64,
        pid: Pid,
        out: &Arc<Outbox>,
    ) -> Arc<RemoteProcess> {
        lock(&self.map)
            .entry(id)
            .or_insert_with(|| {
                Arc::new_cyclic(|me| RemoteProcess {
                    pid,
                    out: out.clone(),
                    state: Mutex::new(ProxyState::default()),
                    table: Arc::downgrade(self),
                    me: me.clone(),
                })
            })
            .clone()
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<RemoteProcess>> {
        lock(&self.map).get(&id).cloned()
    }

    /// Every proxy, and the table left empty (the connection is lost).
    pub(crate) fn take_all(&self) -> Vec<Arc<RemoteProcess>> {
        lock(&self.map).drain().map(|(_, p)| p).collect()
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

/// An actor of the other node, as local links and monitors see it.
pub(crate) struct RemoteProcess {
    pid: Pid,
    out: Arc<Outbox>,
    state: Mutex<ProxyState>,
    table: Weak<Proxies>,
    me: Weak<RemoteProcess>,
}

#[derive(Default)]
struct ProxyState {
    /// Local monitors of this actor, and the pids of their watchers.
    watchers: HashMap<MonitorRef, (Weak<dyn Process>, Pid)>,
    links: HashMap<Pid, Weak<dyn Process>>,
    exited: Option<ExitReason>,
    exit_wakers: Vec<Waker>,
    /// Out of the table: it had no party left. A new party puts it back.
    detached: bool,
    /// A party came to this proxy after it had left the table and another took its place:
    /// everything goes to that one.
    redirect: Option<Arc<RemoteProcess>>,
    /// Proxies that redirect here: their parties hold them only weakly, so this one keeps
    /// them while it has parties.
    aliases: Vec<Arc<RemoteProcess>>,
}

impl ProxyState {
    fn idle(&self) -> bool {
        self.watchers.is_empty() && self.links.is_empty()
    }
}

impl RemoteProcess {
    /// Makes room for a new party: puts the proxy back in its table first if it had left.
    /// `Here` holds the state to add the party to; `Elsewhere` names the proxy that took
    /// this one's place in the table (the party goes there); `Err` if the connection is lost.
    fn attach(&self) -> Result<Attached<'_>, ExitReason> {
        {
            let state = lock(&self.state);
            if let Some(other) = &state.redirect {
                return Ok(Attached::Elsewhere(other.clone()));
            }
            if let Some(reason) = &state.exited {
                return Err(reason.clone());
            }
            if !state.detached {
                return Ok(Attached::Here(state));
            }
        }
        let (Some(table), Some(me)) = (self.table.upgrade(), self.me.upgrade()) else {
            return Err(ExitReason::NoConnection);
        };
        let mut map = lock(&table.map);
        if let Some(reason) = self.out.closed() {
            // The connection was lost: its table was emptied, and stays so.
            return Err(reason);
        }
        match map.get(&self.pid.id()) {
            Some(other) if !Arc::ptr_eq(other, &me) => {
                let other = other.clone();
                lock(&self.state).redirect = Some(other.clone());
                lock(&other.state).aliases.push(me);
                return Ok(Attached::Elsewhere(other));
            }
            Some(_) => {}
            None => {
                map.insert(self.pid.id(), me);
            }
        }
        let mut state = lock(&self.state);
        drop(map);
        state.detached = false;
        if let Some(reason) = &state.exited {
            return Err(reason.clone());
        }
        Ok(Attached::Here(state))
    }

    /// Adds a party to `other`, the proxy this one redirects to, with `add`, then makes sure
    /// `other` keeps this one: the party holds this proxy, weakly. Between the redirect and
    /// the add, `other` may have lost its last party and let go of its aliases.
    fn through(
        &self,
        other: &Arc<RemoteProcess>,
        add: impl FnOnce(&RemoteProcess) -> Result<(), ExitReason>,
    ) -> Result<(), ExitReason> {
        add(other)?;
        if let Some(me) = self.me.upgrade() {
            other.keep_alias(me);
        }
        Ok(())
    }

    /// Keeps `alias`, a proxy that redirects here, for as long as this one has parties (or
    /// passes it on to the proxy this one redirects to). Not once this one has no party
    /// left, has left its table or is lost: nothing would let go of the alias then, and the
    /// two would keep each other.
    fn keep_alias(&self, alias: Arc<RemoteProcess>) {
        if let Some(other) = self.redirect() {
            return other.keep_alias(alias);
        }
        let mut state = lock(&self.state);
        if state.exited.is_some() || state.detached || state.idle() {
            return;
        }
        if !state.aliases.iter().any(|a| Arc::ptr_eq(a, &alias)) {
            state.aliases.push(alias);
        }
    }

    /// Leaves the table if no party is left.
    fn release(&self) {
        let Some(table) = self.table.upgrade() else {
            return;
        };
        let mut map = lock(&table.map);
        let mut state = lock(&self.state);
        if state.idle() && !state.detached && state.redirect.is_none() {
            if let Some(current) = map.get(&self.pid.id()) {
                if std::ptr::eq(Arc::as_ptr(current), self) {
                    map.remove(&self.pid.id());
                    state.detached = true;
                    // No party is left, so none holds an alias either.
                    state.aliases.clear();
                }
            }
        }
    }

    fn redirect(&self) -> Option<Arc<RemoteProcess>> {
        lock(&self.state).redirect.clone()
    }

    /// The id of the local actor that watches this one through `monitor`, if it does.
    pub(crate) fn watcher(&self, monitor: MonitorRef) -> Option<u64> {
        let state = lock(&self.state);
        let (_, pid) = state.watchers.get(&monitor)?;
        pid.is_local().then(|| pid.id())
    }

    /// The other node reports that the actor a local `monitor` watched stopped.
    pub(crate) fn down(&self, monitor: MonitorRef, reason: ExitReason) {
        let watcher = lock(&self.state).watchers.remove(&monitor);
        self.release();
        if let Some(watcher) = watcher.and_then(|(w, _)| w.upgrade()) {
            watcher.signal(Signal::down(Down {
                monitor,
                pid: self.pid,
                reason,
            }));
        }
    }

    /// Records a link to the local `peer` that the other node already made (a spawn with a
    /// link): no signal goes out. `Err` if the connection is lost.
    pub(crate) fn adopt_link(
        &self,
        peer: Pid,
        process: Weak<dyn Process>,
    ) -> Result<(), ExitReason> {
        match self.attach()? {
            Attached::Here(mut state) => {
                state.links.insert(peer, process);
                Ok(())
            }
            Attached::Elsewhere(other) => self.through(&other, |o| o.adopt_link(peer, process)),
        }
    }

    /// The other node sends an exit signal from this actor to the local actor `to`, which
    /// `local` finds (asked only for an exit signal that is not a link's: a link's goes to
    /// the actor the link names).
    /// `false` for a link exit over a link this proxy does not hold (the other node may
    /// have made it: its stand-in holds it).
    pub(crate) fn exit_to(
        &self,
        to: Pid,
        local: impl FnOnce() -> Option<Arc<dyn Process>>,
        reason: ExitReason,
        link: bool,
    ) -> bool {
        let target = if link {
            // Linked no more: the link fired.
            let removed = lock(&self.state).links.remove(&to);
            self.release();
            match removed {
                Some(process) => process.upgrade(),
                None => return false,
            }
        } else {
            local()
        };
        if let Some(target) = target {
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
        true
    }

    /// The other node's actor unlinked from the local `local`: forget a link this node made
    /// to it, without a signal back.
    pub(crate) fn forget_link(&self, local: Pid) {
        lock(&self.state).links.remove(&local);
        self.release();
    }

    /// The connection is lost: every local party hears `reason`.
    pub(crate) fn lost(&self, reason: &ExitReason) {
        let (watchers, links, wakers) = {
            let mut state = lock(&self.state);
            if state.exited.is_none() {
                state.exited = Some(reason.clone());
            }
            state.aliases.clear();
            (
                std::mem::take(&mut state.watchers),
                std::mem::take(&mut state.links),
                std::mem::take(&mut state.exit_wakers),
            )
        };
        for (monitor, (watcher, _)) in watchers {
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

/// Where a new party of a proxy goes.
enum Attached<'a> {
    Here(std::sync::MutexGuard<'a, ProxyState>),
    Elsewhere(Arc<RemoteProcess>),
}

impl Process for RemoteProcess {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn signal(&self, signal: Signal) {
        if let Some(other) = self.redirect() {
            return other.signal(signal);
        }
        match signal {
            Signal::Exit { exit, link } => {
                if link {
                    lock(&self.state).links.remove(&exit.from);
                    self.release();
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
        match self.attach()? {
            Attached::Elsewhere(other) => self.through(&other, |o| o.add_link(peer, process)),
            Attached::Here(mut state) => {
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
        }
    }

    fn remove_link(&self, peer: Pid) -> bool {
        if let Some(other) = self.redirect() {
            return other.remove_link(peer);
        }
        let mut state = lock(&self.state);
        let exited = state.exited.is_some();
        state.links.remove(&peer);
        drop(state);
        // A proxy made only to be unlinked from leaves the table too.
        self.release();
        // If the other node made the link, this node's end of it is in the stand-in.
        if let Some(standin) = self
            .table
            .upgrade()
            .and_then(|table| table.standins.get(self.pid.id()))
        {
            standin.remove_link(peer);
        }
        // A local actor that is stopping takes its links back before its exit signals go
        // out: the exit signal itself ends the link on the other node, so no unlink is sent
        // ahead of it (the other node would then drop the exit as one over no link).
        // Sent even if this proxy did not hold the link: the other node may have made it.
        if !exited && table::get(peer).is_some() {
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
        match self.attach()? {
            Attached::Elsewhere(other) => self.through(&other, |o| o.add_watcher(monitor, watcher)),
            Attached::Here(mut state) => {
                state.watchers.insert(monitor, (watcher, watcher_pid));
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
        }
    }

    fn remove_watcher(&self, monitor: MonitorRef) {
        if let Some(other) = self.redirect() {
            return other.remove_watcher(monitor);
        }
        let removed = lock(&self.state).watchers.remove(&monitor);
        self.release();
        if let Some((_, watcher)) = removed {
            send(
                &self.out,
                &SignalMsg::Demonitor {
                    monitor: monitor.raw(),
                    watcher: watcher.id(),
                    target: self.pid.id(),
                },
            );
        }
    }

    fn kill(&self) {
        send(&self.out, &SignalMsg::Kill { to: self.pid.id() });
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        if let Some(other) = self.redirect() {
            return other.exit_reason();
        }
        lock(&self.state).exited.clone()
    }

    fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason> {
        if let Some(other) = self.redirect() {
            return other.poll_exit(cx);
        }
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

/// The actors of the other node that link to or monitor local actors, by id.
#[derive(Default)]
pub(crate) struct StandIns {
    map: Mutex<HashMap<u64, Arc<StandIn>>>,
    /// The same connection's proxies: when both nodes made a link between the same two
    /// actors, a local actor holds it through one record, and the other record's half is
    /// taken back with it.
    proxies: std::sync::OnceLock<Weak<Proxies>>,
}

/// A stand-in held for an attach in progress: it stays in its table until dropped.
pub(crate) struct Held {
    pub(crate) standin: Arc<StandIn>,
}

impl Drop for Held {
    fn drop(&mut self) {
        lock(&self.standin.state).pending -= 1;
        self.standin.release();
    }
}

impl StandIns {
    /// The stand-in of the other node's actor `id` (`pid` here), made if there is none, held
    /// for an attach.
    pub(crate) fn hold(self: &Arc<Self>, id: u64, pid: Pid, out: &Arc<Outbox>) -> Held {
        let mut map = lock(&self.map);
        let standin = map
            .entry(id)
            .or_insert_with(|| {
                Arc::new(StandIn {
                    pid,
                    out: out.clone(),
                    state: Mutex::new(StandInState::default()),
                    table: Arc::downgrade(self),
                })
            })
            .clone();
        lock(&standin.state).pending += 1;
        drop(map);
        Held { standin }
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<StandIn>> {
        lock(&self.map).get(&id).cloned()
    }

    /// Every stand-in, and the table left empty (the connection is lost).
    pub(crate) fn take_all(&self) -> Vec<Arc<StandIn>> {
        lock(&self.map).drain().map(|(_, s)| s).collect()
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

/// An actor of the other node that links to or monitors local actors.
pub(crate) struct StandIn {
    pid: Pid,
    out: Arc<Outbox>,
    state: Mutex<StandInState>,
    table: Weak<StandIns>,
}

#[derive(Default)]
struct StandInState {
    /// Local actors linked to it.
    links: HashMap<Pid, Weak<dyn Process>>,
    /// Its monitors of local actors, until their `Down` or its demonitor.
    monitors: HashSet<MonitorRef>,
    /// Attaches in progress ([`Held`]).
    pending: usize,
}

impl StandIn {
    /// The stand-in will watch a local actor under `monitor` (recorded before the watch
    /// starts, so a `Down` that follows at once finds it).
    pub(crate) fn will_monitor(&self, monitor: MonitorRef) {
        lock(&self.state).monitors.insert(monitor);
    }

    /// Its monitor `monitor` ended (demonitored, or refused).
    pub(crate) fn monitor_ended(&self, monitor: MonitorRef) {
        lock(&self.state).monitors.remove(&monitor);
        self.release();
    }

    /// The other node's actor, linked to the local `local`, stopped: the link is gone.
    /// `false` if it held no such link.
    pub(crate) fn link_fired(&self, local: Pid) -> bool {
        let removed = lock(&self.state).links.remove(&local).is_some();
        self.release();
        removed
    }

    /// Leaves the table if nothing needs it any more.
    fn release(&self) {
        let Some(table) = self.table.upgrade() else {
            return;
        };
        let mut map = lock(&table.map);
        let state = lock(&self.state);
        if state.links.is_empty() && state.monitors.is_empty() && state.pending == 0 {
            if let Some(current) = map.get(&self.pid.id()) {
                if std::ptr::eq(Arc::as_ptr(current), self) {
                    map.remove(&self.pid.id());
                }
            }
        }
    }

    /// The connection is lost: local actors linked to it get an exit signal with `reason`.
    pub(crate) fn lost(&self, reason: &ExitReason) {
        let links = std::mem::take(&mut lock(&self.state).links);
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
            Signal::Down(down) => {
                self.monitor_ended(down.monitor);
                send(
                    &self.out,
                    &SignalMsg::Down {
                        monitor: down.monitor.raw(),
                        target: down.pid.id(),
                        reason: down.reason,
                    },
                );
            }
            Signal::Exit { exit, link } => {
                if link {
                    lock(&self.state).links.remove(&exit.from);
                    self.release();
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
        // Checked under the state lock: `lost` runs after the outbox is closed, so a link
        // added here is either refused or seen by `lost`.
        let mut state = lock(&self.state);
        match self.out.closed() {
            Some(reason) => Err(reason),
            None => {
                state.links.insert(peer, process);
                Ok(())
            }
        }
    }

    fn remove_link(&self, peer: Pid) -> bool {
        lock(&self.state).links.remove(&peer);
        self.release();
        // If this node made the same link too, its half is in the proxy.
        if let Some(proxy) = self
            .table
            .upgrade()
            .and_then(|table| table.proxies.get()?.upgrade())
            .and_then(|proxies| proxies.get(self.pid.id()))
        {
            proxy.forget_link(peer);
        }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Weak};

    use super::{Attached, Proxies, StandIns};
    use crate::node::outbox::Outbox;
    use crate::pid::Pid;
    use crate::process::Process;

    fn nobody() -> Weak<dyn Process> {
        Weak::<super::StandIn>::new()
    }

    /// A proxy that redirects to another keeps being held by it even when, between the
    /// redirect and the new party's arrival, the other lost its last party.
    #[test]
    fn a_proxy_redirected_to_another_lives_while_its_party_does() {
        let proxies = Proxies::new(Arc::new(StandIns::default()));
        let out = Arc::new(Outbox::new(1 << 20, 1 << 16, 1 << 20));
        let (id, pid) = (7, Pid::remote(1, 1, 7));
        let (a, b) = (Pid::local(1_000_001), Pid::local(1_000_002));

        // The first proxy gets a party, loses it, and leaves the table.
        let first = proxies.proxy(id, pid, &out);
        first.add_link(a, nobody()).expect("linked");
        first.remove_link(a);
        // Another takes its place, with a party of its own.
        let second = proxies.proxy(id, pid, &out);
        assert!(!Arc::ptr_eq(&first, &second));
        second.add_link(a, nobody()).expect("linked");

        // A new party comes to the first: it is sent on to the second...
        let Ok(Attached::Elsewhere(other)) = first.attach() else {
            panic!("expected a redirect");
        };
        assert!(Arc::ptr_eq(&other, &second));
        // ...which loses its own party in between, and with it its aliases...
        second.remove_link(a);
        // ...before the new party is added there.
        first
            .through(&other, |o| o.add_link(b, nobody()))
            .expect("linked");
        drop(other);
        let held = Arc::downgrade(&first);
        drop(first);
        assert!(
            held.upgrade().is_some(),
            "the party's proxy was dropped while the party holds it"
        );
        // Once the party leaves, neither keeps the other.
        second.remove_link(b);
        assert!(held.upgrade().is_none(), "the alias outlived its party");
        let weak = Arc::downgrade(&second);
        drop(second);
        drop(proxies);
        assert!(weak.upgrade().is_none(), "the proxy outlived its table");
    }
}
