//! The codec's rules, each on bytes written out by hand from RFC 23 / 37.

use super::*;

fn peer_greeting(minor: u8, mechanism: &[u8]) -> Vec<u8> {
    let mut g = vec![0u8; GREETING_LEN];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = minor;
    g[12..12 + mechanism.len()].copy_from_slice(mechanism);
    g
}

#[test]
fn our_greeting_is_zmtp_3_1_with_null() {
    let g = greeting();
    assert_eq!(g.len(), 64);
    assert_eq!((g[0], g[9], g[10], g[11]), (0xff, 0x7f, 3, 1));
    assert_eq!(&g[12..16], b"NULL");
    assert!(g[16..].iter().all(|&b| b == 0));
    assert_eq!(check_greeting(&g), Ok(1));
}

#[test]
fn greetings_of_3_0_and_later_with_null_pass_and_others_do_not() {
    assert_eq!(check_greeting(&peer_greeting(0, b"NULL")), Ok(0));
    assert_eq!(check_greeting(&peer_greeting(1, b"NULL")), Ok(1));
    let mut v4 = peer_greeting(0, b"NULL");
    v4[10] = 4;
    assert_eq!(
        check_greeting(&v4),
        Ok(0),
        "a later major version is spoken as 3"
    );
    // The padding between the signature's ends may hold anything (ZeroMQ 2 puts a length).
    let mut padded = peer_greeting(1, b"NULL");
    padded[1..9].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(check_greeting(&padded), Ok(1));

    let mut v2 = peer_greeting(0, b"NULL");
    v2[10] = 1;
    assert_eq!(check_greeting(&v2), Err(ProtocolError::OldVersion(1)));
    assert_eq!(
        check_greeting(&peer_greeting(0, b"PLAIN")),
        Err(ProtocolError::Mechanism("PLAIN".into()))
    );
    assert_eq!(
        check_greeting(&peer_greeting(0, b"NULLX")),
        Err(ProtocolError::Mechanism("NULLX".into()))
    );
    let mut wrong = peer_greeting(0, b"NULL");
    wrong[0] = 0xfe;
    assert_eq!(check_greeting(&wrong), Err(ProtocolError::NotZmtp));
    let mut wrong = peer_greeting(0, b"NULL");
    wrong[9] = 0x7e;
    assert_eq!(check_greeting(&wrong), Err(ProtocolError::NotZmtp));
    assert_eq!(check_greeting(&[0xff; 10]), Err(ProtocolError::NotZmtp));
}

#[test]
fn frames_come_off_whole_with_short_and_long_lengths() {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0x01, 3]);
    buf.extend_from_slice(b"abc");
    buf.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 0, 0, 2]);
    buf.extend_from_slice(b"de");
    buf.extend_from_slice(&[0x04, 0]);
    let a = next_frame(&mut buf).unwrap();
    assert!(a.more() && !a.is_command());
    assert_eq!(&a.body[..], b"abc");
    let b = next_frame(&mut buf).unwrap();
    assert!(
        !b.more() && !b.is_command(),
        "a long length on a short frame is fine"
    );
    assert_eq!(&b.body[..], b"de");
    let c = next_frame(&mut buf).unwrap();
    assert!(c.is_command() && c.body.is_empty());
    assert!(next_frame(&mut buf).is_none());
    assert!(buf.is_empty());
}

#[test]
fn an_incomplete_frame_stays_and_says_what_it_misses() {
    for whole in [
        vec![0x00, 5, b'h', b'e', b'l', b'l', b'o'],
        [vec![0x02, 0, 0, 0, 0, 0, 0, 1, 0], vec![7u8; 256]].concat(),
    ] {
        for cut in 0..whole.len() {
            let mut buf = BytesMut::from(&whole[..cut]);
            assert!(next_frame(&mut buf).is_none(), "cut at {cut}");
            assert_eq!(buf.len(), cut, "nothing taken at {cut}");
            let head = if whole[0] & LONG != 0 { 9 } else { 2 };
            let expect = if cut < head {
                0
            } else {
                (whole.len() - cut) as u64
            };
            assert_eq!(missing(&buf), expect, "cut at {cut}");
        }
        let mut buf = BytesMut::from(&whole[..]);
        assert!(next_frame(&mut buf).is_some());
        assert_eq!(missing(&buf), 0);
    }
    // A 2^36-byte announcement misses that much; the reader never reserves it (AHEAD).
    let buf = [0x02, 0, 0, 0, 0x10, 0, 0, 0, 0];
    assert_eq!(missing(&buf), (1u64 << 36) + 9 - 9);
}

#[test]
fn a_message_encodes_with_more_on_all_but_the_last_and_decodes_back() {
    let long = Bytes::from(vec![9u8; 5000]);
    let frames = vec![
        Bytes::from_static(b"id"),
        Bytes::new(),
        Bytes::from(vec![1u8; 300]),
        long.clone(),
        Bytes::from_static(b"end"),
    ];
    let (pieces, total) = encode_message(&frames);
    assert_eq!(pieces.iter().map(Bytes::len).sum::<usize>(), total);
    assert!(
        pieces.iter().any(|p| p.as_ptr() == long.as_ptr()),
        "a long body is sent from the frame itself"
    );
    let mut wire = BytesMut::new();
    for p in &pieces {
        wire.extend_from_slice(p);
    }
    assert_eq!(&wire[..3], &[0x01, 2, b'i']);
    assert_eq!(&wire[4..6], &[0x01, 0], "the empty frame");
    assert_eq!(
        &wire[6..15],
        &[0x03, 0, 0, 0, 0, 0, 0, 1, 44],
        "300 bytes: long"
    );
    let mut back = Vec::new();
    while let Some(frame) = next_frame(&mut wire) {
        back.push(frame);
    }
    assert_eq!(back.len(), 5);
    assert!(back[..4].iter().all(Frame::more) && !back[4].more());
    assert_eq!(back.into_iter().map(|f| f.body).collect::<Vec<_>>(), frames);
}

#[test]
fn ready_carries_the_socket_type_and_reads_back() {
    let mut buf = BytesMut::from(&ready("XPUB")[..]);
    let frame = next_frame(&mut buf).unwrap();
    assert!(frame.is_command());
    assert_eq!(&frame.body[..6], b"\x05READY");
    assert_eq!(
        parse_command(&frame.body),
        Ok(Command::Ready {
            socket_type: Bytes::from_static(b"XPUB"),
            identity: None
        })
    );
}

/// A peer's READY with properties in any order and case, as libzmq and pyzmq write it.
fn peer_ready(props: &[(&[u8], &[u8])]) -> Bytes {
    let mut data = Vec::new();
    for (name, value) in props {
        data.push(name.len() as u8);
        data.extend_from_slice(name);
        data.extend_from_slice(&(value.len() as u32).to_be_bytes());
        data.extend_from_slice(value);
    }
    let mut buf = BytesMut::from(&command("READY", &data)[..]);
    next_frame(&mut buf).unwrap().body
}

#[test]
fn a_peers_ready_gives_its_type_and_identity_whatever_the_case() {
    let body = peer_ready(&[(b"identity", b"session-1"), (b"SOCKET-TYPE", b"DEALER")]);
    assert_eq!(
        parse_command(&body),
        Ok(Command::Ready {
            socket_type: Bytes::from_static(b"DEALER"),
            identity: Some(Bytes::from_static(b"session-1"))
        })
    );
    let body = peer_ready(&[(b"Socket-Type", b"SUB"), (b"X-Other", b"ignored")]);
    assert!(matches!(
        parse_command(&body),
        Ok(Command::Ready { identity: None, .. })
    ));
    let no_type = peer_ready(&[(b"Identity", b"x")]);
    assert_eq!(
        parse_command(&no_type),
        Err(ProtocolError::BadCommand("READY"))
    );
    // A value length past the end, a name length past the end.
    let mut lying = peer_ready(&[(b"Socket-Type", b"REQ")]).to_vec();
    let at = lying.len() - 4;
    lying[at - 1] = 200;
    assert_eq!(
        parse_command(&Bytes::from(lying)),
        Err(ProtocolError::BadCommand("READY"))
    );
    let cut = Bytes::from_static(b"\x05READY\x0bSocket");
    assert_eq!(parse_command(&cut), Err(ProtocolError::BadCommand("READY")));
}

#[test]
fn ping_is_answered_with_its_context_and_other_commands_read() {
    let ping = Bytes::from_static(b"\x04PING\x00\x0actx");
    assert_eq!(
        parse_command(&ping),
        Ok(Command::Ping(Bytes::from_static(b"ctx")))
    );
    let mut buf = BytesMut::from(&pong(b"ctx")[..]);
    let frame = next_frame(&mut buf).unwrap();
    assert!(frame.is_command());
    assert_eq!(&frame.body[..], b"\x04PONGctx");
    let long_context = Bytes::from([&b"\x04PING\x00\x01"[..], &[7u8; 40]].concat());
    assert_eq!(
        parse_command(&long_context),
        Ok(Command::Ping(Bytes::from(vec![7u8; 16]))),
        "at most 16 bytes of context come back"
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x04PING\x00")),
        Err(ProtocolError::BadCommand("PING"))
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x09SUBSCRIBEtopic")),
        Ok(Command::Subscribe(Bytes::from_static(b"topic")))
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x06CANCEL")),
        Ok(Command::Cancel(Bytes::new()))
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x05ERROR\x03bad")),
        Ok(Command::Error(Bytes::from_static(b"bad")))
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x05ERROR\x09ba")),
        Ok(Command::Error(Bytes::from_static(b"ba"))),
        "a reason cut short is kept as far as it goes"
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x04PONGx")),
        Ok(Command::Pong)
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x03FOO")),
        Ok(Command::Other)
    );
    assert_eq!(
        parse_command(&Bytes::new()),
        Err(ProtocolError::BadCommand("empty"))
    );
    assert_eq!(
        parse_command(&Bytes::from_static(b"\x09SUB")),
        Err(ProtocolError::BadCommand("truncated"))
    );
}

#[test]
fn error_reasons_are_cut_at_255_bytes() {
    let mut buf = BytesMut::from(&error(&"x".repeat(400))[..]);
    let frame = next_frame(&mut buf).unwrap();
    assert_eq!(
        parse_command(&frame.body),
        Ok(Command::Error(Bytes::from("x".repeat(255))))
    );
}

#[test]
fn subscription_messages_of_zmtp_3_0() {
    assert_eq!(
        subscription_message(&Bytes::from_static(b"\x01")),
        Some(Command::Subscribe(Bytes::new()))
    );
    assert_eq!(
        subscription_message(&Bytes::from_static(b"\x00kernel")),
        Some(Command::Cancel(Bytes::from_static(b"kernel")))
    );
    assert_eq!(subscription_message(&Bytes::from_static(b"\x02x")), None);
    assert_eq!(subscription_message(&Bytes::new()), None);
}
