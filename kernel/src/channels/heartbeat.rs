//! Heartbeat: each ping from a frontend is echoed by the child, through us, so a frontend that
//! sees its pings answered knows the whole chain (proxy and ipykernel) is alive.

use crate::{debug, warn};
use provzmtp::{Rep, Req};

/// Relays pings to the child's heartbeat and its echoes back, one at a time (REQ/REP lockstep).
pub async fn relay(mut frontend: Rep, mut child: Req) {
    loop {
        let Some(mut ping) = frontend.recv().await else {
            return;
        };
        let body = std::mem::take(&mut ping.body);
        let pong = match child.request(&body).await {
            Ok(pong) => pong,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                warn!("heartbeat: the child broke the protocol: {e}");
                return;
            }
            Err(e) => {
                // The child exited; the proxy notices that through the process and says why.
                debug!("heartbeat: the child stopped answering: {e}");
                return;
            }
        };
        if !frontend.reply(ping, pong) {
            // That frontend went away; keep answering the others.
            debug!("heartbeat: the frontend that pinged is gone");
        }
    }
}
