//! Stdin: `input()` and `getpass()`. The child asks on its stdin ROUTER, addressed to the
//! identity of the shell request being run. Our upstream stdin DEALER carries the same identity
//! as our shell DEALER, so those requests reach us; the frontend's identity is still stacked
//! under ours, so we pass them straight to the client that ran the cell.

use super::frames;
use crate::connection::Channel;
use crate::link::ChildLink;
use crate::warn;
use crate::wire::Signer;
use provzmtp::{DealerReceiver, RouterReceiver, RouterSender};
use std::sync::Arc;

/// Frontend → child: `input_reply`, after its signature is checked.
pub(crate) async fn forward_input_replies(
    mut frontend: RouterReceiver,
    link: Arc<ChildLink>,
    signer: Signer,
) {
    while let Some(msg) = frontend.recv().await {
        let Some(raw) = frames::from_frontend(&signer, Channel::Stdin, msg) else {
            continue;
        };
        if let Err(e) = link.send(Channel::Stdin, raw.into_frames()).await {
            warn!("cannot forward an input reply to the child: {e}");
        }
    }
}

/// Child → frontend: `input_request`, unchanged.
pub(crate) async fn forward_input_requests(mut child: DealerReceiver, frontend: RouterSender) {
    while let Some(msg) = frames::next(child.recv(), "child stdin").await {
        if msg.len() < 2 {
            warn!("dropping an input request with no route to a frontend");
            continue;
        }
        if !frontend.send(&msg) {
            warn!("cannot deliver an input request: its frontend is gone");
        }
    }
}
