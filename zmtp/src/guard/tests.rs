//! The guard against a plain model of ZMTP framing, over thousands of seeded random streams fed
//! in random pieces, and against random bytes.

use super::*;

/// One frame as the model sees it.
#[derive(Debug, Clone)]
struct Frame {
    command: bool,
    more: bool,
    /// Encoded with an 8-byte length even when it would fit in one.
    long: bool,
    len: u64,
}

fn greeting() -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// Encodes frames; returns the stream and, per frame, the offset of its header's last byte.
fn encode(frames: &[Frame]) -> (Vec<u8>, Vec<usize>) {
    let mut out = greeting();
    let mut header_ends = Vec::new();
    for f in frames {
        let long = f.long || f.len > 255;
        let flags = (f.more as u8) | ((long as u8) << 1) | ((f.command as u8) << 2);
        out.push(flags);
        if long {
            out.extend_from_slice(&f.len.to_be_bytes());
        } else {
            out.push(f.len as u8);
        }
        header_ends.push(out.len() - 1);
        out.resize(out.len() + f.len as usize, 0xab);
    }
    (out, header_ends)
}

/// The rule, stated over whole frames: the first frame over the limit, or the first message
/// frame that takes its message over it (each frame counting at least FRAME_COST).
fn model(frames: &[Frame], limit: u64) -> Option<(usize, Violation)> {
    let mut message = 0u64;
    for (i, f) in frames.iter().enumerate() {
        if f.len > limit {
            return Some((i, Violation::Frame { len: f.len, limit }));
        }
        if !f.command {
            message += f.len.max(FRAME_COST);
            if message > limit {
                return Some((
                    i,
                    Violation::Message {
                        size: message,
                        limit,
                    },
                ));
            }
            if !f.more {
                message = 0;
            }
        }
    }
    None
}

/// Feeds `stream` in random pieces; returns the violation and the end offset of the piece
/// that raised it.
fn feed_in_pieces(
    rng: &mut fastrand::Rng,
    stream: &[u8],
    limit: u64,
) -> Option<(usize, Violation)> {
    let mut guard = ZmtpGuard::new(limit);
    let mut at = 0;
    while at < stream.len() {
        let piece = match rng.u8(..4) {
            0 => 1,
            1 => rng.usize(1..16),
            _ => rng.usize(1..4096),
        };
        let end = (at + piece).min(stream.len());
        if let Err(v) = guard.feed(&stream[at..end]) {
            return Some((end, v));
        }
        at = end;
    }
    None
}

fn random_frames(rng: &mut fastrand::Rng, limit: u64) -> Vec<Frame> {
    (0..rng.usize(0..40))
        .map(|_| {
            let len = match rng.u8(..10) {
                0 => limit + rng.u64(0..3),
                1 => limit.saturating_sub(rng.u64(0..3)),
                2 => rng.u64(0..FRAME_COST + 2),
                3 if rng.bool() => 1 << 36,
                _ => rng.u64(0..limit / 4 + 1),
            };
            Frame {
                command: rng.u8(..6) == 0,
                more: rng.bool(),
                long: rng.bool(),
                len,
            }
        })
        .collect()
}

#[test]
fn the_73_byte_attack_is_caught_at_its_header() {
    let mut attack = greeting();
    attack.push(LONG);
    attack.extend_from_slice(&(1u64 << 36).to_be_bytes());
    assert_eq!(attack.len(), 73);
    let violation = Violation::Frame {
        len: 1 << 36,
        limit: DEFAULT_MAX_MESSAGE,
    };
    assert_eq!(
        ZmtpGuard::new(DEFAULT_MAX_MESSAGE).feed(&attack),
        Err(violation)
    );
    // Byte by byte: nothing is refused before the length's last byte.
    let mut guard = ZmtpGuard::new(DEFAULT_MAX_MESSAGE);
    for (i, b) in attack.iter().enumerate() {
        let verdict = guard.feed(std::slice::from_ref(b));
        assert_eq!(verdict.is_err(), i == 72, "byte {i}");
    }
}

#[test]
fn a_large_message_in_small_frames_is_caught() {
    let limit = 1 << 20;
    let frames: Vec<Frame> = (0..40)
        .map(|i| Frame {
            command: false,
            more: i < 39,
            long: false,
            len: 200,
        })
        .collect();
    let (stream, _) = encode(&frames);
    assert!(ZmtpGuard::new(limit).feed(&stream).is_ok());
    // The same frames against a limit they add up past.
    assert!(matches!(
        ZmtpGuard::new(40 * 200 - 1).feed(&stream),
        Err(Violation::Message { .. })
    ));
    // Empty frames count FRAME_COST each.
    let empties: Vec<Frame> = (0..100)
        .map(|_| Frame {
            command: false,
            more: true,
            long: false,
            len: 0,
        })
        .collect();
    let (stream, _) = encode(&empties);
    assert_eq!(
        ZmtpGuard::new(50 * FRAME_COST).feed(&stream),
        Err(Violation::Message {
            size: 51 * FRAME_COST,
            limit: 50 * FRAME_COST
        })
    );
}

#[test]
fn commands_do_not_count_towards_the_message_around_them() {
    let frame = |command, more, len| Frame {
        command,
        more,
        long: false,
        len,
    };
    let frames = [
        frame(false, true, 200),
        frame(true, false, 200),
        frame(false, false, 200),
    ];
    let (stream, _) = encode(&frames);
    assert!(ZmtpGuard::new(400).feed(&stream).is_ok());
    assert!(ZmtpGuard::new(399).feed(&stream).is_err());
}

/// Thousands of random frame streams, each fed in random pieces: the guard finds exactly the
/// model's violation, in the piece holding that frame's header, and nothing in valid streams.
#[test]
fn fuzz_guard_agrees_with_the_model() {
    let seed = std::env::var("PROV_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0001);
    let cases = if std::env::var_os("PROV_SOAK").is_some() {
        200_000
    } else {
        5_000
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    for case in 0..cases {
        let limit = rng.u64(FRAME_COST..8192);
        let frames = random_frames(&mut rng, limit);
        let expected = model(&frames, limit);
        // Oversized bodies are never sent: the stream stops at the violating header.
        let cut = expected.map_or(frames.len(), |(i, _)| i + 1);
        let mut sent = frames[..cut].to_vec();
        if let Some(last) = sent.last_mut().filter(|_| expected.is_some()) {
            last.long |= last.len > 255;
            last.len = 0;
        }
        let (mut stream, header_ends) = encode(&sent);
        let mut expected = expected;
        if let Some((i, _)) = expected {
            // Restore the announced length in the header of the last frame.
            let header_end = header_ends[i];
            let f = &frames[i];
            if f.long || f.len > 255 {
                stream[header_end - 7..=header_end].copy_from_slice(&f.len.to_be_bytes());
            } else {
                stream[header_end] = f.len as u8;
            }
            expected = Some((header_end, expected.unwrap().1));
        }
        let got = feed_in_pieces(&mut rng, &stream, limit);
        match (expected, got) {
            (None, None) => {}
            (Some((header_end, want)), Some((piece_end, v))) => {
                assert_eq!(v, want, "case {case} (seed {seed})");
                assert!(piece_end > header_end, "case {case}: refused too early");
            }
            (want, got) => panic!("case {case} (seed {seed}): wanted {want:?}, got {got:?}"),
        }
    }
}

/// Random bytes after a greeting: never a panic, and the verdict does not depend on how the
/// bytes are split.
#[test]
fn fuzz_random_bytes_same_verdict_whatever_the_pieces() {
    let mut rng = fastrand::Rng::with_seed(0x5eed_0002);
    for case in 0..5_000 {
        let limit = rng.u64(1..1 << 20);
        let mut stream = greeting();
        stream.extend((0..rng.usize(0..2048)).map(|_| rng.u8(..)));
        let whole = ZmtpGuard::new(limit).feed(&stream).err();
        let pieces = feed_in_pieces(&mut rng, &stream, limit).map(|(_, v)| v);
        assert_eq!(whole, pieces, "case {case}");
    }
}
