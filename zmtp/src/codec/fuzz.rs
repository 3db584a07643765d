//! The codec over thousands of seeded random messages and random bytes, fed in random pieces
//! (as `wire/src/fuzz.rs` does for the Jupyter wire format): what is encoded decodes back
//! unchanged however the bytes arrive, and random bytes never panic the decoder or the
//! command reader. `PROV_FUZZ_SEED` picks the seed, `PROV_SOAK=1` runs longer.

use super::*;

/// The generator, its seed (`PROV_FUZZ_SEED`, else `default`) and the number of cases
/// (`PROV_SOAK=1`: many more).
fn seeded(default: u64) -> (fastrand::Rng, u64, usize) {
    let seed = std::env::var("PROV_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    let cases = if std::env::var_os("PROV_SOAK").is_some() {
        100_000
    } else {
        2_000
    };
    (fastrand::Rng::with_seed(seed), seed, cases)
}

fn random_frame(rng: &mut fastrand::Rng) -> Bytes {
    let len = match rng.u8(..6) {
        0 => 0,
        1 => 255,
        2 => 256,
        3 => rng.usize(COPY_BELOW - 2..COPY_BELOW + 2),
        4 => rng.usize(0..10_000),
        _ => rng.usize(0..64),
    };
    Bytes::from((0..len).map(|_| rng.u8(..)).collect::<Vec<u8>>())
}

/// Feeds `wire` to the decoder in random pieces, as reads would bring it.
fn decode_in_pieces(rng: &mut fastrand::Rng, wire: &[u8]) -> Vec<Frame> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let most = 1 + rng.usize(..3000);
        let n = rng.usize(1..=(wire.len() - at).min(most));
        buf.extend_from_slice(&wire[at..at + n]);
        at += n;
        while let Some(frame) = next_frame(&mut buf) {
            out.push(frame);
        }
    }
    assert!(buf.is_empty());
    out
}

#[test]
fn fuzz_messages_decode_back_unchanged_however_they_arrive() {
    let (mut rng, seed, cases) = seeded(0x5eed_2301);
    for case in 0..cases {
        let messages: Vec<Vec<Bytes>> = (0..rng.usize(1..4))
            .map(|_| {
                (0..rng.usize(1..8))
                    .map(|_| random_frame(&mut rng))
                    .collect()
            })
            .collect();
        let mut wire = Vec::new();
        for message in &messages {
            let (pieces, total) = encode_message(message);
            let before = wire.len();
            for p in pieces {
                wire.extend_from_slice(&p);
            }
            assert_eq!(wire.len() - before, total, "case {case} (seed {seed})");
        }
        let frames = decode_in_pieces(&mut rng, &wire);
        let mut back: Vec<Vec<Bytes>> = vec![Vec::new()];
        for frame in frames {
            assert!(!frame.is_command(), "case {case} (seed {seed})");
            let more = frame.more();
            back.last_mut().unwrap().push(frame.body);
            if !more {
                back.push(Vec::new());
            }
        }
        back.pop();
        assert_eq!(back, messages, "case {case} (seed {seed})");
    }
}

#[test]
fn fuzz_random_bytes_never_panic_the_decoder_or_the_command_reader() {
    let (mut rng, _, cases) = seeded(0x5eed_2302);
    for _ in 0..cases * 5 {
        let bytes: Vec<u8> = (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect();
        let mut buf = BytesMut::from(&bytes[..]);
        while let Some(frame) = next_frame(&mut buf) {
            let _ = parse_command(&frame.body);
            let _ = subscription_message(&frame.body);
        }
        let _ = missing(&buf);
        let _ = check_greeting(&bytes);
        // Every command a peer could send, as a body with random data after the name.
        let names: [&[u8]; 7] = [
            b"READY",
            b"PING",
            b"PONG",
            b"ERROR",
            b"SUBSCRIBE",
            b"CANCEL",
            b"X",
        ];
        let name = names[rng.usize(..names.len())];
        let body = Bytes::from([&[name.len() as u8], name, &bytes[..]].concat());
        let _ = parse_command(&body);
    }
}

#[test]
fn fuzz_commands_we_write_read_back() {
    let (mut rng, seed, cases) = seeded(0x5eed_2303);
    for case in 0..cases {
        let context: Vec<u8> = (0..rng.usize(0..=16)).map(|_| rng.u8(..)).collect();
        let mut ping = b"\x04PING".to_vec();
        ping.extend_from_slice(&rng.u16(..).to_be_bytes());
        ping.extend_from_slice(&context);
        let Ok(Command::Ping(got)) = parse_command(&Bytes::from(ping)) else {
            panic!("case {case} (seed {seed}): not a PING");
        };
        assert_eq!(&got[..], &context[..]);
        let mut buf = BytesMut::from(&pong(&got)[..]);
        let frame = next_frame(&mut buf).unwrap();
        assert_eq!(&frame.body[5..], &context[..], "case {case} (seed {seed})");
        let kind = ["ROUTER", "XPUB", "REP"][rng.usize(..3)];
        let mut buf = BytesMut::from(&ready(kind)[..]);
        let frame = next_frame(&mut buf).unwrap();
        assert_eq!(
            parse_command(&frame.body),
            Ok(Command::Ready {
                socket_type: Bytes::from(kind),
                identity: None
            })
        );
    }
}
