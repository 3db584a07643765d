//! Heartbeat: each ping from a frontend is echoed by the child, through us, so a frontend that
//! sees its pings answered knows the whole chain (proxy and ipykernel) is alive.

use crate::{debug, warn};
use provzmtp::Rep;
use zeromq::{ReqSocket, SocketRecv, SocketSend, ZmqMessage};

/// Relays pings to the child's heartbeat and its echoes back, one at a time (REQ/REP lockstep).
pub async fn relay(mut frontend: Rep, mut child: ReqSocket) {
    loop {
        let Some(mut ping) = frontend.recv().await else {
            return;
        };
        let Ok(body) = ZmqMessage::try_from(std::mem::take(&mut ping.body)) else {
            continue; // never empty: the socket gives only requests with a body
        };
        if let Err(e) = child.send(body).await {
            warn!("heartbeat: cannot reach the child: {e}");
            return;
        }
        let Ok(pong) = child.recv().await else {
            // The child exited; the proxy notices that through the process and says why.
            debug!("heartbeat: the child stopped answering");
            return;
        };
        if !frontend.reply(ping, pong.into_vec()) {
            // That frontend went away; keep answering the others.
            debug!("heartbeat: the frontend that pinged is gone");
        }
    }
}
