//! Stdin: `input()` and `getpass()`. The child asks on its stdin ROUTER, addressed to the
//! identity of the shell request being run. Our upstream stdin DEALER carries the same identity
//! as our shell DEALER, so those requests reach us; the frontend's identity is still stacked
//! under ours, so we pass them straight to the client that ran the cell.

use crate::connection::Channel;
use crate::proxy::Shared;
use crate::warn;
use std::sync::Arc;
use zeromq::{DealerRecvHalf, RouterRecvHalf, RouterSendHalf, SocketRecv, SocketSend};

/// Frontend → child: `input_reply`, after its signature is checked.
pub async fn forward_input_replies(mut frontend: RouterRecvHalf, shared: Arc<Shared>) {
    while let Ok(msg) = frontend.recv().await {
        let Some(raw) = shared.check_frontend_message(Channel::Stdin, msg) else {
            continue;
        };
        if let Err(e) = shared.send_to_child(Channel::Stdin, raw.into_zmq()).await {
            warn!("cannot forward an input reply to the child: {e}");
        }
    }
}

/// Child → frontend: `input_request`, unchanged.
pub async fn forward_input_requests(mut child: DealerRecvHalf, mut frontend: RouterSendHalf) {
    while let Ok(msg) = child.recv().await {
        if msg.len() < 2 {
            warn!("dropping an input request with no route to a frontend");
            continue;
        }
        if let Err(e) = frontend.send(msg).await {
            warn!("cannot deliver an input request: {e}");
        }
    }
}
