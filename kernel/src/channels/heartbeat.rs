//! Heartbeat: each ping from a frontend is echoed by the child, through us, so a frontend that
//! sees its pings answered knows the whole chain (proxy and ipykernel) is alive.

use crate::{debug, warn};
use zeromq::{RepSocket, ReqSocket, SocketRecv, SocketSend};

/// Relays pings to the child's heartbeat and its echoes back, one at a time (REQ/REP lockstep).
pub async fn relay(mut frontend: RepSocket, mut child: ReqSocket) {
    loop {
        let Ok(ping) = frontend.recv().await else {
            return;
        };
        if let Err(e) = child.send(ping).await {
            warn!("heartbeat: cannot reach the child: {e}");
            return;
        }
        let Ok(pong) = child.recv().await else {
            // The child exited; the proxy notices that through the process and says why.
            debug!("heartbeat: the child stopped answering");
            return;
        };
        if let Err(e) = frontend.send(pong).await {
            // That frontend went away; keep answering the others.
            warn!("heartbeat: cannot answer a frontend: {e}");
        }
    }
}
