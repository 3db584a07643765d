//! The Jupyter client side of a replay: the shell, control and iopub sockets of the kernel
//! it started, signed messages (`provwire`), a request's reply and idle awaited with a
//! deadline while the kernel process is watched, so nothing waits on a dead kernel.

use std::time::Duration;

use bytes::Bytes;
use provwire::{RawMessage, Signer};
use serde_json::{json, Value};
use tokio::time::{timeout_at, Instant};
use zeromq::{DealerSocket, Socket, SocketRecv, SocketSend, SubSocket};

use crate::kernel::{Kernel, Ports};

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Its reply and its idle arrived: the kernel ran it (and recorded it).
    Ran,
    /// No reply or idle within the time allowed.
    TimedOut(Duration),
    /// The kernel exited first.
    Died(String),
}

/// The connected sockets and the signing key.
pub(crate) struct Client {
    shell: DealerSocket,
    control: DealerSocket,
    iopub: SubSocket,
    signer: Signer,
    session: String,
}

impl Client {
    /// Connects to the kernel's shell, control and iopub ports.
    pub(crate) async fn connect(ports: &Ports, key: &str) -> Result<Client, String> {
        let endpoint = |port: u16| format!("tcp://127.0.0.1:{port}");
        let mut iopub = SubSocket::new();
        let mut shell = DealerSocket::new();
        let mut control = DealerSocket::new();
        let failed = |what: &str, e: zeromq::ZmqError| {
            format!("cannot connect to the kernel's {what} port: {e}")
        };
        iopub
            .connect(&endpoint(ports.iopub))
            .await
            .map_err(|e| failed("iopub", e))?;
        iopub.subscribe("").await.map_err(|e| failed("iopub", e))?;
        shell
            .connect(&endpoint(ports.shell))
            .await
            .map_err(|e| failed("shell", e))?;
        control
            .connect(&endpoint(ports.control))
            .await
            .map_err(|e| failed("control", e))?;
        Ok(Client {
            shell,
            control,
            iopub,
            signer: Signer::new(key.as_bytes()),
            session: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// A signed message and its id.
    fn message(&self, msg_type: &str, content: &Value, metadata: &Value) -> (String, RawMessage) {
        let msg_id = uuid::Uuid::new_v4().to_string();
        let header = json!({
            "msg_id": msg_id, "session": self.session, "username": "provctl-replay",
            "date": chrono::Utc::now().to_rfc3339(), "msg_type": msg_type, "version": "5.3",
        });
        let frame = |v: &Value| Bytes::from(v.to_string());
        let mut raw = RawMessage::from_parts(
            Vec::new(),
            Bytes::new(),
            [
                frame(&header),
                frame(&json!({})),
                frame(metadata),
                frame(content),
            ],
            Vec::new(),
        );
        self.signer.resign(&mut raw);
        (msg_id, raw)
    }

    /// Waits until the kernel answers a `kernel_info_request` and its iopub reaches us (asked
    /// again every second, as a kernel still starting may miss one), until `deadline`.
    pub(crate) async fn wait_ready(&mut self, kernel: &mut Kernel, deadline: Instant) -> Outcome {
        let mut replied = false;
        let mut heard = false;
        while !(replied && heard) {
            let (msg_id, raw) = self.message("kernel_info_request", &json!({}), &json!({}));
            if let Err(e) = self.shell.send(raw.into_zmq()).await {
                return Outcome::Died(format!("cannot send to the kernel: {e}"));
            }
            let round = (Instant::now() + Duration::from_secs(1)).min(deadline);
            loop {
                let event = tokio::select! {
                    m = timeout_at(round, self.shell.recv()) => m.map(|m| (true, m)),
                    m = timeout_at(round, self.iopub.recv()) => m.map(|m| (false, m)),
                    why = kernel.exited() => return Outcome::Died(why),
                };
                match event {
                    Err(_) => break,
                    Ok((_, Err(e))) => {
                        return Outcome::Died(format!("the kernel's socket failed: {e}"))
                    }
                    Ok((true, Ok(m))) => replied |= self.is_reply_to(m, &msg_id).is_some(),
                    Ok((false, Ok(_))) => heard = true,
                }
                if replied && heard {
                    break;
                }
            }
            if Instant::now() >= deadline && !(replied && heard) {
                return Outcome::TimedOut(Duration::ZERO);
            }
        }
        Outcome::Ran
    }

    /// Runs `code` as the user's cell `cell_id` and waits for its reply and its idle (which
    /// prov-kernel holds until the execution is in the store), until `deadline`.
    pub(crate) async fn execute(
        &mut self,
        kernel: &mut Kernel,
        code: &str,
        cell_id: Option<&str>,
        deadline: Instant,
        allowed: Duration,
    ) -> Outcome {
        let content = json!({
            "code": code, "silent": false, "store_history": true, "user_expressions": {},
            "allow_stdin": false, "stop_on_error": false,
        });
        let metadata = match cell_id {
            Some(id) => json!({ "cellId": id }),
            None => json!({}),
        };
        let (msg_id, raw) = self.message("execute_request", &content, &metadata);
        if let Err(e) = self.shell.send(raw.into_zmq()).await {
            return Outcome::Died(format!("cannot send to the kernel: {e}"));
        }
        let (mut replied, mut idle) = (false, false);
        while !(replied && idle) {
            let event = tokio::select! {
                m = timeout_at(deadline, self.shell.recv()) => m.map(|m| (true, m)),
                m = timeout_at(deadline, self.iopub.recv()) => m.map(|m| (false, m)),
                why = kernel.exited() => return Outcome::Died(why),
            };
            match event {
                Err(_) => return Outcome::TimedOut(allowed),
                Ok((_, Err(e))) => {
                    return Outcome::Died(format!("the kernel's socket failed: {e}"))
                }
                Ok((true, Ok(m))) => replied |= self.is_reply_to(m, &msg_id).is_some(),
                Ok((false, Ok(m))) => idle |= self.is_idle_of(m, &msg_id),
            }
        }
        Outcome::Ran
    }

    /// Asks the kernel to shut down (control channel) and waits for its reply, at most
    /// `wait`; the caller then waits for the process and kills it if it stays.
    pub(crate) async fn shutdown(&mut self, wait: Duration) {
        let (msg_id, raw) =
            self.message("shutdown_request", &json!({"restart": false}), &json!({}));
        if self.control.send(raw.into_zmq()).await.is_err() {
            return;
        }
        let deadline = Instant::now() + wait;
        while let Ok(Ok(m)) = timeout_at(deadline, self.control.recv()).await {
            if self.is_reply_to(m, &msg_id).is_some() {
                return;
            }
        }
    }

    /// The content of `m` when it is a correctly signed reply to `msg_id`.
    fn is_reply_to(&self, m: zeromq::ZmqMessage, msg_id: &str) -> Option<Value> {
        let raw = RawMessage::parse(m).ok()?;
        self.signer.verify(&raw).ok()?;
        (raw.parent().msg_id == msg_id).then(|| serde_json::from_slice(&raw.content).ok())?
    }

    /// Whether `m` is the kernel going idle after request `msg_id`.
    fn is_idle_of(&self, m: zeromq::ZmqMessage, msg_id: &str) -> bool {
        let Some(raw) = RawMessage::parse(m)
            .ok()
            .filter(|r| self.signer.verify(r).is_ok())
        else {
            return false;
        };
        if raw.header().msg_type != "status" || raw.parent().msg_id != msg_id {
            return false;
        }
        serde_json::from_slice::<Value>(&raw.content).is_ok_and(|c| c["execution_state"] == "idle")
    }
}
