//! The Jupyter wire format, and nothing else: splitting a multipart ZeroMQ message into routing
//! identities, signature, the four JSON dict frames and binary buffers; checking and making the
//! HMAC-SHA256 signature; building the frames of messages the proxy creates.
//!
//! The relay keeps every message as the `Bytes` frames it arrived in and forwards those frames
//! unchanged. Only the few fields the proxy needs (message type, ids) are parsed, lazily.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use zeromq::ZmqMessage;

/// The frame that separates routing identities from the message proper.
pub const DELIMITER: &[u8] = b"<IDS|MSG>";

/// Why a multipart message could not be read as a Jupyter message.
#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    /// No `<IDS|MSG>` delimiter frame.
    NoDelimiter,
    /// Fewer than the signature plus four dict frames after the delimiter.
    TooFewFrames(usize),
    /// The signature does not match the message under the connection key.
    BadSignature,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::NoDelimiter => write!(f, "no <IDS|MSG> delimiter frame"),
            WireError::TooFewFrames(n) => {
                write!(f, "{n} frames after the delimiter, need at least 5")
            }
            WireError::BadSignature => write!(f, "missing or wrong HMAC signature"),
        }
    }
}

/// One Jupyter message as raw frames. Cloning is cheap: frames are reference counted.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// Routing identities before the delimiter (stacked: the frontend's, then ours).
    pub identities: Vec<Bytes>,
    /// The hex signature frame as received.
    pub signature: Bytes,
    /// header, parent_header, metadata, content: JSON, as received.
    pub header: Bytes,
    pub parent_header: Bytes,
    pub metadata: Bytes,
    pub content: Bytes,
    /// Binary buffers after the content frame (comms, widgets). Never signed.
    pub buffers: Vec<Bytes>,
}

/// The header fields the proxy routes on. Everything else in the header is left alone.
#[derive(Deserialize, Debug, Default, Clone)]
pub struct HeaderFields {
    #[serde(default)]
    pub msg_id: String,
    #[serde(default)]
    pub msg_type: String,
    /// The session of the client that sent it (empty when not given).
    #[serde(default)]
    pub session: String,
}

impl RawMessage {
    /// Splits a multipart message. `ZmqMessage` holds `Bytes`, so no frame is copied.
    pub fn parse(message: ZmqMessage) -> Result<RawMessage, WireError> {
        RawMessage::parse_frames(message.into_vec())
    }

    /// Splits a multipart message given as its frames (as the kernel's own sockets give them).
    pub fn parse_frames(frames: Vec<Bytes>) -> Result<RawMessage, WireError> {
        let delim = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or(WireError::NoDelimiter)?;
        let after = frames.len() - delim - 1;
        if after < 5 {
            return Err(WireError::TooFewFrames(after));
        }
        let mut rest = frames.into_iter();
        let identities: Vec<Bytes> = rest.by_ref().take(delim).collect();
        rest.next(); // the delimiter
        let mut next = || rest.next().unwrap_or_default();
        let signature = next();
        let dicts = [next(), next(), next(), next()];
        Ok(RawMessage::from_parts(
            identities,
            signature,
            dicts,
            rest.collect(),
        ))
    }

    /// A message from its parts: the four dict frames in wire order (header, parent_header,
    /// metadata, content).
    pub fn from_parts(
        identities: Vec<Bytes>,
        signature: Bytes,
        dicts: [Bytes; 4],
        buffers: Vec<Bytes>,
    ) -> RawMessage {
        let [header, parent_header, metadata, content] = dicts;
        RawMessage {
            identities,
            signature,
            header,
            parent_header,
            metadata,
            content,
            buffers,
        }
    }

    /// The four signed frames, in the order the signature covers them.
    pub fn dicts(&self) -> [&[u8]; 4] {
        [
            &self.header,
            &self.parent_header,
            &self.metadata,
            &self.content,
        ]
    }

    /// Joins the frames back into a multipart message, unchanged.
    pub fn into_zmq(self) -> ZmqMessage {
        ZmqMessage::try_from(self.into_frames()).expect("a Jupyter message always has frames")
    }

    /// The message's frames, unchanged, in wire order.
    pub fn into_frames(self) -> Vec<Bytes> {
        let mut frames = self.identities;
        frames.reserve(6 + self.buffers.len());
        frames.push(Bytes::from_static(DELIMITER));
        frames.extend([
            self.signature,
            self.header,
            self.parent_header,
            self.metadata,
            self.content,
        ]);
        frames.extend(self.buffers);
        frames
    }

    /// The message's own id and type.
    pub fn header(&self) -> HeaderFields {
        serde_json::from_slice(&self.header).unwrap_or_default()
    }

    /// The id and type of the request this message answers (empty when it has no parent).
    pub fn parent(&self) -> HeaderFields {
        serde_json::from_slice(&self.parent_header).unwrap_or_default()
    }
}

/// Whether `needle` occurs in a frame: a cheap look (`"idle"`, a key) before parsing it.
pub fn contains(frame: &[u8], needle: &[u8]) -> bool {
    frame.windows(needle.len()).any(|w| w == needle)
}

/// The connection's signing key. An empty key means messages are neither signed nor checked,
/// as the Jupyter spec says.
#[derive(Clone)]
pub struct Signer {
    mac: Option<Hmac<Sha256>>,
}

impl Signer {
    /// Makes a signer for `key` (the connection file's `key`, as bytes).
    pub fn new(key: &[u8]) -> Signer {
        let mac = (!key.is_empty())
            .then(|| Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length"));
        Signer { mac }
    }

    fn digest(&self, frames: [&[u8]; 4]) -> Option<Vec<u8>> {
        let mut mac = self.mac.clone()?;
        for frame in frames {
            mac.update(frame);
        }
        Some(mac.finalize().into_bytes().to_vec())
    }

    /// The hex signature of the four dict frames (empty when unsigned).
    pub fn sign(&self, frames: [&[u8]; 4]) -> Bytes {
        match self.digest(frames) {
            Some(digest) => Bytes::from(hex::encode(digest)),
            None => Bytes::new(),
        }
    }

    /// Checks a received message's signature in constant time.
    pub fn verify(&self, msg: &RawMessage) -> Result<(), WireError> {
        let Some(mut mac) = self.mac.clone() else {
            return Ok(());
        };
        for frame in msg.dicts() {
            mac.update(frame);
        }
        let given = hex::decode(&msg.signature).map_err(|_| WireError::BadSignature)?;
        mac.verify_slice(&given)
            .map_err(|_| WireError::BadSignature)
    }

    /// Signs a message whose dict frames the proxy made or changed (only `edit.rs` and
    /// `messages.rs` do): the signature frame is replaced, nothing else.
    pub fn resign(&self, msg: &mut RawMessage) {
        msg.signature = self.sign(msg.dicts());
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&[u8]]) -> ZmqMessage {
        let v: Vec<Bytes> = parts.iter().map(|p| Bytes::copy_from_slice(p)).collect();
        ZmqMessage::try_from(v).unwrap()
    }

    #[test]
    fn parse_keeps_identities_and_buffers_in_order() {
        let msg = RawMessage::parse(frames(&[
            b"client",
            b"proxy",
            DELIMITER,
            b"sig",
            b"{\"msg_id\":\"a\",\"msg_type\":\"comm_msg\"}",
            b"{}",
            b"{}",
            b"{}",
            b"buf1",
            b"buf2",
        ]))
        .unwrap();
        assert_eq!(
            msg.identities,
            vec![Bytes::from("client"), Bytes::from("proxy")]
        );
        assert_eq!(msg.header().msg_type, "comm_msg");
        assert_eq!(msg.buffers, vec![Bytes::from("buf1"), Bytes::from("buf2")]);
        let back: Vec<Bytes> = msg.into_zmq().into_vec();
        assert_eq!(back.len(), 10);
        assert_eq!(back[8], Bytes::from("buf1"));
    }

    #[test]
    fn parse_rejects_short_and_undelimited_messages() {
        let short = frames(&[DELIMITER, b"sig", b"{}", b"{}"]);
        assert_eq!(
            RawMessage::parse(short).unwrap_err(),
            WireError::TooFewFrames(3)
        );
        let none = frames(&[b"a", b"b", b"c", b"d", b"e", b"f"]);
        assert_eq!(RawMessage::parse(none).unwrap_err(), WireError::NoDelimiter);
    }

    #[test]
    fn signature_matches_python_reference_and_rejects_tampering() {
        // Computed once with Python's standard library, not with this crate:
        // hmac.new(b"key", b"h" + b"p" + b"m" + b"c", hashlib.sha256).hexdigest()
        let signer = Signer::new(b"key");
        let sig = signer.sign([b"h", b"p", b"m", b"c"]);
        assert_eq!(
            sig,
            Bytes::from_static(b"7ac01dac9d0a3859f492a083a22c57c2668fbf2422f731d3fef9546512b66bfa")
        );
        let mut msg = RawMessage::parse(frames(&[
            DELIMITER, &sig, b"h", b"p", b"m", b"c", b"buffer",
        ]))
        .unwrap();
        assert!(signer.verify(&msg).is_ok(), "buffers are not signed");
        msg.content = Bytes::from_static(b"C");
        assert_eq!(signer.verify(&msg), Err(WireError::BadSignature));
        msg.signature = Bytes::new();
        assert_eq!(signer.verify(&msg), Err(WireError::BadSignature));
        assert!(Signer::new(b"").verify(&msg).is_ok(), "empty key: unsigned");
    }
}
