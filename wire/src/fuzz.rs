//! The wire parser and the signature check over thousands of seeded random and mutated
//! multipart messages: never a panic, a parse that gives the frames back unchanged, and a
//! signature check that accepts exactly the signed dict frames.

use super::*;

fn seed(default: u64) -> u64 {
    std::env::var("PROV_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn cases() -> usize {
    if std::env::var_os("PROV_SOAK").is_some() {
        200_000
    } else {
        5_000
    }
}

fn random_frame(rng: &mut fastrand::Rng) -> Bytes {
    match rng.u8(..8) {
        0 => Bytes::from_static(DELIMITER),
        1 => Bytes::new(),
        2 => Bytes::from(r#"{"msg_id":"a","msg_type":"execute_request"}"#),
        3 => Bytes::from(vec![b'{'; rng.usize(0..64)]),
        _ => Bytes::from(
            (0..rng.usize(0..96))
                .map(|_| rng.u8(..))
                .collect::<Vec<u8>>(),
        ),
    }
}

fn message(frames: &[Bytes]) -> ZmqMessage {
    ZmqMessage::try_from(frames.to_vec()).unwrap()
}

#[test]
fn fuzz_parse_gives_the_frames_back_or_says_why_not() {
    let seed = seed(0x5eed_0003);
    let mut rng = fastrand::Rng::with_seed(seed);
    for case in 0..cases() {
        let frames: Vec<Bytes> = (0..rng.usize(1..24))
            .map(|_| random_frame(&mut rng))
            .collect();
        let first_delimiter = frames.iter().position(|f| f.as_ref() == DELIMITER);
        // The kernel's own sockets hand frames over as they are: the same verdict, the same
        // frames back.
        match RawMessage::parse_frames(frames.clone()) {
            Ok(raw) => assert_eq!(raw.into_frames(), frames, "case {case} (seed {seed})"),
            Err(e) => assert_eq!(
                Err(e),
                RawMessage::parse(message(&frames)).map(|_| ()),
                "case {case} (seed {seed})"
            ),
        }
        match (RawMessage::parse(message(&frames)), first_delimiter) {
            (Ok(raw), Some(at)) => {
                assert!(frames.len() - at > 5, "case {case} (seed {seed})");
                assert_eq!(raw.identities.len(), at);
                // Looking at the header never fails, whatever it holds.
                let _ = (raw.header(), raw.parent());
                assert_eq!(
                    raw.into_zmq().into_vec(),
                    frames,
                    "case {case}: not unchanged"
                );
            }
            (Err(WireError::NoDelimiter), None) => {}
            (Err(WireError::TooFewFrames(n)), Some(at)) => {
                assert_eq!(n, frames.len() - at - 1, "case {case}");
                assert!(n < 5);
            }
            (got, at) => panic!("case {case} (seed {seed}): {got:?} with delimiter at {at:?}"),
        }
    }
}

#[test]
fn fuzz_signature_accepts_exactly_the_signed_frames() {
    let seed = seed(0x5eed_0004);
    let mut rng = fastrand::Rng::with_seed(seed);
    let signer = Signer::new(b"a key of the connection");
    for case in 0..cases() {
        let dicts: Vec<Bytes> = (0..4).map(|_| random_frame(&mut rng)).collect();
        let sig = signer.sign([&dicts[0], &dicts[1], &dicts[2], &dicts[3]]);
        let mut frames = vec![Bytes::from_static(DELIMITER), sig.clone()];
        frames.extend(dicts.iter().cloned());
        let mut raw = RawMessage::parse(message(&frames)).unwrap();
        assert!(signer.verify(&raw).is_ok(), "case {case}");
        // Flip one bit of the signature or of one dict frame.
        let which = rng.usize(0..5);
        let target = match which {
            0 => &mut raw.signature,
            1 => &mut raw.header,
            2 => &mut raw.parent_header,
            3 => &mut raw.metadata,
            _ => &mut raw.content,
        };
        let mut bytes = target.to_vec();
        if bytes.is_empty() {
            bytes.push(rng.u8(..));
        } else {
            let at = rng.usize(0..bytes.len());
            bytes[at] ^= 1 << rng.u8(0..8);
        }
        *target = Bytes::from(bytes);
        // Hex is read in either case, so a signature that still decodes to the same digest
        // is the same signature; anything else must be refused.
        let same_digest = which == 0 && hex::decode(&raw.signature).ok() == hex::decode(&sig).ok();
        assert_eq!(
            signer.verify(&raw).is_ok(),
            same_digest,
            "case {case} (seed {seed}): frame {which}"
        );
    }
}
