//! The order iopub messages leave in, as plain state (no socket, no clock): tested below.
//!
//! Messages go out in the order they arrive, with one exception: a cell's idle that waits for
//! its magics' outputs (and then its commit) is set aside in a lane of its own, with whatever
//! comes after it from the same client (the same session: that client's later cells, as a Run
//! All sends them), so each client sees its own cells' messages in the child's order while other
//! clients' traffic keeps flowing. A cell's idle that waits only for its commit waits in place
//! (a small commit; every client sees the statuses in the child's order), except while some lane
//! is open: then it takes a lane too, since its commit comes after the slow cell's.
//!
//! While a lane is open, another client's `busy` may reach subscribers before the slow cell's
//! `idle`: the cost of not holding every client for one cell's magics.

use crate::wire::{HeaderFields, RawMessage};
use std::collections::{HashMap, VecDeque};

/// What the relay does next with a message (`W`: what a held idle waits for).
#[derive(Debug)]
pub(crate) enum Step<W> {
    /// Publish it now.
    Publish(RawMessage),
    /// Publish it once `W` is over, before anything else.
    WaitInPlace(RawMessage, W),
    /// Start waiting for `W` in the lane of this parent msg_id; release the lane when it is
    /// over.
    OpenLane(String, W),
}

/// The lane of a message whose parent header is `parent`: its client's session, else (a
/// client that sends none) its request's msg_id.
pub(crate) fn lane_of(parent: &HeaderFields) -> &str {
    if parent.session.is_empty() {
        &parent.msg_id
    } else {
        &parent.session
    }
}

/// Idles set aside, by lane ([`lane_of`]): the idle first, then what came after it.
pub(crate) struct Outbox<W> {
    lanes: HashMap<String, VecDeque<(RawMessage, Option<W>)>>,
}

impl<W> Default for Outbox<W> {
    fn default() -> Self {
        Outbox {
            lanes: HashMap::new(),
        }
    }
}

impl<W> Outbox<W> {
    /// No lane is open: everything goes out in order.
    pub(crate) fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }

    /// A message arrives, of the lane `parent` ([`lane_of`]); `wait` when it is an idle that
    /// must wait, `slow` when that wait is for magics. `None`: it joined its lane.
    pub(crate) fn arrive(
        &mut self,
        parent: &str,
        msg: RawMessage,
        wait: Option<W>,
        slow: bool,
    ) -> Option<Step<W>> {
        if let Some(lane) = self.lanes.get_mut(parent) {
            lane.push_back((msg, wait));
            return None;
        }
        match wait {
            None => Some(Step::Publish(msg)),
            Some(wait) if !slow && self.lanes.is_empty() => Some(Step::WaitInPlace(msg, wait)),
            Some(wait) => {
                self.lanes
                    .insert(parent.to_string(), VecDeque::from([(msg, None)]));
                Some(Step::OpenLane(parent.to_string(), wait))
            }
        }
    }

    /// The wait of lane `parent` is over: what goes out now, in order (its idle first), and
    /// the wait of a next idle in that lane, which keeps the lane open.
    pub(crate) fn release(&mut self, parent: &str) -> (Vec<RawMessage>, Option<W>) {
        let Some(mut lane) = self.lanes.remove(parent) else {
            return (Vec::new(), None);
        };
        let mut out = Vec::new();
        while let Some((msg, wait)) = lane.pop_front() {
            if let Some(wait) = wait {
                lane.push_front((msg, None));
                self.lanes.insert(parent.to_string(), lane);
                return (out, Some(wait));
            }
            out.push(msg);
        }
        (out, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::tests::signed;
    use crate::wire::Signer;

    /// A message of cell `parent`, told apart by `tag`.
    fn msg(parent: &str, tag: &str) -> RawMessage {
        let parent = format!(r#"{{"msg_id":"{parent}"}}"#);
        signed(&Signer::new(b""), &[], ["{}", &parent, "{}", tag])
    }

    #[test]
    fn a_clients_cells_share_its_lane() {
        let of = |session: &str, id: &str| {
            let parent = format!(r#"{{"msg_id":"{id}","session":"{session}"}}"#);
            let msg = signed(&Signer::new(b""), &[], ["{}", &parent, "{}", "{}"]);
            lane_of(&msg.parent()).to_string()
        };
        assert_eq!(of("lab", "a"), "lab");
        assert_eq!(of("lab", "b"), of("lab", "a"));
        assert_ne!(of("console", "c"), of("lab", "a"));
        assert_eq!(of("", "d"), "d", "no session: the request alone");
        assert_eq!(lane_of(&msg("e", "x").parent()), "e");
    }

    fn tag(step: &Option<Step<&'static str>>) -> String {
        match step {
            Some(Step::Publish(m)) => format!("publish {}", String::from_utf8_lossy(&m.content)),
            Some(Step::WaitInPlace(m, w)) => {
                format!("wait {w} then {}", String::from_utf8_lossy(&m.content))
            }
            Some(Step::OpenLane(parent, w)) => format!("lane {parent} waits {w}"),
            None => "queued".into(),
        }
    }

    fn tags(out: &[RawMessage]) -> Vec<String> {
        out.iter()
            .map(|m| String::from_utf8_lossy(&m.content).into_owned())
            .collect()
    }

    /// Feeds messages `(parent, tag, wait, slow)` and checks each step.
    fn feed(
        outbox: &mut Outbox<&'static str>,
        arrivals: &[(&str, &str, Option<&'static str>, bool, &str)],
    ) {
        for &(parent, text, wait, slow, expected) in arrivals {
            let step = outbox.arrive(parent, msg(parent, text), wait, slow);
            assert_eq!(tag(&step), expected, "{parent} {text}");
        }
    }

    #[test]
    fn a_commit_waits_in_place_when_no_magic_runs() {
        let mut outbox = Outbox::default();
        feed(
            &mut outbox,
            &[
                ("a", "idle", Some("commit"), false, "wait commit then idle"),
                ("b", "busy", None, false, "publish busy"),
            ],
        );
        assert!(outbox.is_empty());
    }

    #[test]
    fn a_slow_magic_holds_only_its_own_cell() {
        let mut outbox = Outbox::default();
        feed(
            &mut outbox,
            &[
                ("a", "a idle", Some("magics"), true, "lane a waits magics"),
                // Another client's cell flows meanwhile...
                ("b", "b busy", None, false, "publish b busy"),
                ("b", "b stream", None, false, "publish b stream"),
                // ...and its idle, whose commit comes after the slow cell's, takes a lane.
                ("b", "b idle", Some("commit"), false, "lane b waits commit"),
                // Whatever of the slow cell comes after its idle stays behind it.
                ("a", "a late", None, false, "queued"),
            ],
        );
        let (out, next) = outbox.release("a");
        assert_eq!(tags(&out), ["a idle", "a late"]);
        assert!(next.is_none());
        let (out, _) = outbox.release("b");
        assert_eq!(tags(&out), ["b idle"]);
        assert!(outbox.is_empty());
        let back = [(
            "c",
            "c idle",
            Some("commit"),
            false,
            "wait commit then c idle",
        )];
        feed(&mut outbox, &back);
    }

    #[test]
    fn a_second_idle_in_a_lane_keeps_it_open() {
        let mut outbox = Outbox::default();
        feed(
            &mut outbox,
            &[
                ("a", "idle 1", Some("magics"), true, "lane a waits magics"),
                ("a", "busy 2", None, false, "queued"),
                ("a", "idle 2", Some("commit 2"), false, "queued"),
            ],
        );
        let (out, next) = outbox.release("a");
        assert_eq!(tags(&out), ["idle 1", "busy 2"]);
        assert_eq!(next, Some("commit 2"));
        assert!(!outbox.is_empty());
        let (out, next) = outbox.release("a");
        assert_eq!(tags(&out), ["idle 2"]);
        assert!(next.is_none() && outbox.is_empty());
        let (out, next) = outbox.release("a");
        assert!(
            out.is_empty() && next.is_none(),
            "an unknown lane releases nothing"
        );
    }
}
