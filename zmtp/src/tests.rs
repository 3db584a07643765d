//! The sockets over real TCP: against the `zeromq` crate's DEALER, SUB and REQ (another ZMTP
//! implementation, so both sides are not ours), and against a hand-driven peer for what a
//! well-behaved client never does (oversized frames, PING, a subscriber that does not read).
//! The Python tests drive them with libzmq (pyzmq, jupyter_client) through the kernel.

use super::*;
use bytes::Bytes;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zeromq::{Socket, SocketOptions, SocketRecv, SocketSend, ZmqMessage};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn say(level: Level, message: std::fmt::Arguments<'_>) {
    LOG.lock().unwrap().push(format!("{level:?} {message}"));
}

fn logged(needle: &str) -> bool {
    LOG.lock().unwrap().iter().any(|l| l.contains(needle))
}

fn options(limit: u64) -> Options {
    Options::new(limit, say)
}

const LOCAL: (&str, u16) = ("127.0.0.1", 0);

fn endpoint(addr: std::net::SocketAddr) -> String {
    format!("tcp://{addr}")
}

fn msg(frames: &[&[u8]]) -> ZmqMessage {
    let frames: Vec<Bytes> = frames.iter().map(|f| Bytes::copy_from_slice(f)).collect();
    ZmqMessage::try_from(frames).unwrap()
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("in time")
}

fn dealer(identity: Option<&str>) -> zeromq::DealerSocket {
    let mut options = SocketOptions::default();
    if let Some(id) = identity {
        options.peer_identity(Bytes::from(id.to_owned()).try_into().unwrap());
    }
    zeromq::DealerSocket::with_options(options)
}

#[tokio::test]
async fn router_routes_by_the_identity_each_peer_gave() {
    let router = Router::bind("shell", LOCAL, options(1 << 20))
        .await
        .unwrap();
    let at = endpoint(router.local_addr());
    let (tx, mut rx) = router.split();
    let mut a = dealer(Some("session-a"));
    a.connect(&at).await.unwrap();
    let mut b = dealer(Some("session-b"));
    b.connect(&at).await.unwrap();
    a.send(msg(&[b"<IDS|MSG>", b"from a"])).await.unwrap();
    let got = within(rx.recv()).await.unwrap();
    assert_eq!(
        got,
        vec![
            Bytes::from("session-a"),
            "<IDS|MSG>".into(),
            "from a".into()
        ]
    );
    b.send(msg(&[b"from b", b""])).await.unwrap();
    let got = within(rx.recv()).await.unwrap();
    assert_eq!(
        got,
        vec![Bytes::from("session-b"), "from b".into(), Bytes::new()]
    );

    assert!(tx.send(&["session-b".into(), "to b".into()]));
    assert!(tx.send(&["session-a".into(), "to a".into(), "2".into()]));
    let to_a = within(a.recv()).await.unwrap().into_vec();
    assert_eq!(to_a, vec![Bytes::from("to a"), "2".into()]);
    let to_b = within(b.recv()).await.unwrap().into_vec();
    assert_eq!(to_b, vec![Bytes::from("to b")]);
    assert!(
        !tx.send(&["nobody".into(), "x".into()]),
        "unroutable: dropped"
    );
    assert!(
        !tx.send(&["session-a".into()]),
        "no frames after the identity"
    );
}

#[tokio::test]
async fn a_peer_without_identity_gets_one_made() {
    let router = Router::bind("control", LOCAL, options(1 << 20))
        .await
        .unwrap();
    let at = endpoint(router.local_addr());
    let (tx, mut rx) = router.split();
    let mut anonymous = dealer(None);
    anonymous.connect(&at).await.unwrap();
    anonymous.send(msg(&[b"hello"])).await.unwrap();
    let got = within(rx.recv()).await.unwrap();
    assert_eq!(got[0].len(), 5);
    assert_eq!(got[0][0], 0, "made ids start with a zero byte");
    assert!(tx.send(&[got[0].clone(), "back".into()]));
    assert_eq!(
        within(anonymous.recv()).await.unwrap().into_vec(),
        vec![Bytes::from("back")]
    );
}

/// A second connection naming an identity in use is refused (libzmq's ROUTER ignores it), so
/// nobody takes a frontend's replies by naming its session; once the first is gone, the name
/// is free again.
#[tokio::test]
async fn an_identity_in_use_is_refused_until_its_connection_ends() {
    let router = Router::bind("shell", LOCAL, options(1 << 20))
        .await
        .unwrap();
    let at = endpoint(router.local_addr());
    let (tx, mut rx) = router.split();
    let mut first = dealer(Some("same"));
    first.connect(&at).await.unwrap();
    first.send(msg(&[b"1"])).await.unwrap();
    assert_eq!(within(rx.recv()).await.unwrap()[1], Bytes::from("1"));

    let mut thief = dealer(Some("same"));
    thief.connect(&at).await.unwrap();
    // What the refused peer sends never arrives (its connection is closed at the handshake).
    let _ = tokio::time::timeout(Duration::from_millis(300), thief.send(msg(&[b"stolen"]))).await;
    assert!(tx.send(&["same".into(), "for the first".into()]));
    assert_eq!(
        within(first.recv()).await.unwrap().into_vec(),
        vec![Bytes::from("for the first")]
    );
    first.send(msg(&[b"2"])).await.unwrap();
    assert_eq!(
        within(rx.recv()).await.unwrap(),
        vec![Bytes::from("same"), "2".into()],
        "only the first connection's messages come in"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), thief.recv())
            .await
            .is_err(),
        "the refused connection gets nothing"
    );

    drop(first);
    drop(thief);
    // The first connection's end is seen soon; a new one naming the identity then gets in.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = dealer(Some("same"));
        again.connect(&at).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_millis(200), again.send(msg(&[b"3"]))).await;
        if let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
            assert_eq!(got, vec![Bytes::from("same"), "3".into()]);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the identity stays taken after its connection ended"
        );
    }
}

/// A SUB of the `zeromq` crate subscribed to `topic`, once `xpub` has told of it.
async fn subscriber(xpub: &mut XPub, at: &str, topic: &str) -> zeromq::SubSocket {
    let mut sub = zeromq::SubSocket::new();
    sub.connect(at).await.unwrap();
    sub.subscribe(topic).await.unwrap();
    let told = within(xpub.recv()).await.unwrap();
    assert_eq!(told, Bytes::from(format!("\x01{topic}")));
    sub
}

#[tokio::test]
async fn xpub_tells_every_subscription_and_publishes_by_prefix() {
    let mut xpub = XPub::bind("iopub", LOCAL, options(1 << 20)).await.unwrap();
    let at = endpoint(xpub.local_addr());
    let all = subscriber(&mut xpub, &at, "").await;
    let some = subscriber(&mut xpub, &at, "kernel.").await;
    // A second subscriber to the same topic is told too.
    let again = subscriber(&mut xpub, &at, "").await;
    let (mut all, mut some, mut again) = (all, some, again);

    xpub.publish(&["other".into(), "1".into()]);
    xpub.publish(&["kernel.x".into(), "2".into()]);
    assert_eq!(
        within(all.recv()).await.unwrap().into_vec(),
        vec![Bytes::from("other"), "1".into()]
    );
    assert_eq!(
        within(all.recv()).await.unwrap().into_vec()[1],
        Bytes::from("2")
    );
    assert_eq!(
        within(again.recv()).await.unwrap().into_vec()[1],
        Bytes::from("1")
    );
    assert_eq!(
        within(some.recv()).await.unwrap().into_vec(),
        vec![Bytes::from("kernel.x"), "2".into()],
        "only what matches its prefix"
    );
    some.unsubscribe("kernel.").await.unwrap();
    assert_eq!(
        within(xpub.recv()).await.unwrap(),
        Bytes::from_static(b"\x00kernel.")
    );
}

#[tokio::test]
async fn rep_answers_each_request_under_its_envelope() {
    let mut rep = Rep::bind("heartbeat", LOCAL, options(1 << 20))
        .await
        .unwrap();
    let at = endpoint(rep.local_addr());
    let mut req = zeromq::ReqSocket::new();
    req.connect(&at).await.unwrap();
    for ping in ["ping", "again"] {
        req.send(msg(&[ping.as_bytes()])).await.unwrap();
        let request = within(rep.recv()).await.unwrap();
        assert_eq!(request.body, vec![Bytes::from(ping)]);
        let echo = request.body.clone();
        assert!(rep.reply(request, echo));
        assert_eq!(
            within(req.recv()).await.unwrap().into_vec(),
            vec![Bytes::from(ping)]
        );
    }
}

/// A peer speaking ZMTP by hand: greeting and READY sent, the socket's read.
async fn raw_peer(port: u16, socket_type: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut greeting = [0u8; 64];
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    greeting[11] = 1;
    greeting[12..16].copy_from_slice(b"NULL");
    stream.write_all(&greeting).await.unwrap();
    let mut data = vec![11u8];
    data.extend_from_slice(b"Socket-Type");
    data.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    data.extend_from_slice(socket_type.as_bytes());
    stream
        .write_all(&codec::command("READY", &data))
        .await
        .unwrap();
    let mut theirs = [0u8; 64];
    within(stream.read_exact(&mut theirs)).await.unwrap();
    assert_eq!(codec::check_greeting(&theirs), Ok(1));
    let ready = read_frame(&mut stream).await;
    assert!(ready.is_command());
    stream
}

async fn read_frame(stream: &mut TcpStream) -> codec::Frame {
    let mut head = vec![0u8; 2];
    within(stream.read_exact(&mut head)).await.unwrap();
    if head[0] & 2 != 0 {
        head.resize(9, 0);
        within(stream.read_exact(&mut head[2..])).await.unwrap();
    }
    let mut buf = bytes::BytesMut::from(&head[..]);
    let mut body = vec![0u8; codec::missing(&buf) as usize];
    within(stream.read_exact(&mut body)).await.unwrap();
    buf.extend_from_slice(&body);
    codec::next_frame(&mut buf).unwrap()
}

async fn closed(stream: &mut TcpStream) -> bool {
    let mut sink = [0u8; 4096];
    loop {
        match within(stream.read(&mut sink)).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_the_connection_and_is_logged() {
    let router = Router::bind("stdin", LOCAL, options(1 << 20))
        .await
        .unwrap();
    let port = router.local_addr().port();
    let (_tx, mut rx) = router.split();
    let mut peer = raw_peer(port, "DEALER").await;
    peer.write_all(&[0x02, 0, 0, 0, 0x10, 0, 0, 0, 0])
        .await
        .unwrap();
    assert!(closed(&mut peer).await);
    assert!(logged("closing a stdin connection from 127.0.0.1"));
    assert!(logged(
        "a frame of 68719476736 bytes is over PROV_MAX_MESSAGE (1048576 bytes)"
    ));
    // Many small frames adding up past it, before any READY, are caught the same way.
    let mut early = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    early.write_all(&codec::greeting()).await.unwrap();
    let frame = [&[0x01u8, 255][..], &[b'x'; 255]].concat();
    for _ in 0..5000 {
        if early.write_all(&frame).await.is_err() {
            break;
        }
    }
    assert!(closed(&mut early).await);
    assert!(
        logged("a message of 1048576 bytes or more is over PROV_MAX_MESSAGE")
            || logged("bytes or more is over PROV_MAX_MESSAGE (1048576 bytes)")
    );
    // The socket still serves a well-behaved peer.
    let mut good = dealer(Some("good"));
    good.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .unwrap();
    good.send(msg(&[b"fine"])).await.unwrap();
    assert_eq!(within(rx.recv()).await.unwrap()[1], Bytes::from("fine"));
}

#[tokio::test]
async fn a_wrong_greeting_or_socket_type_is_refused_with_a_reason() {
    let xpub = XPub::bind("iopub", LOCAL, options(1 << 20)).await.unwrap();
    let port = xpub.local_addr().port();
    let mut dealer_on_xpub = raw_peer(port, "DEALER").await;
    let error = read_frame(&mut dealer_on_xpub).await;
    assert!(error.is_command());
    assert!(matches!(
        codec::parse_command(&error.body),
        Ok(codec::Command::Error(_))
    ));
    assert!(closed(&mut dealer_on_xpub).await);
    assert!(
        logged("closing a iopub connection from 127.0.0.1")
            && logged("\"DEALER\" socket cannot connect here")
    );
    let mut http = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    http.write_all(&[b'G'; 64]).await.unwrap();
    assert!(closed(&mut http).await);
    assert!(logged("not a ZMTP greeting"));
}

#[tokio::test]
async fn ping_gets_pong_with_its_context() {
    let router = Router::bind("shell", LOCAL, options(1 << 20))
        .await
        .unwrap();
    let mut peer = raw_peer(router.local_addr().port(), "DEALER").await;
    peer.write_all(&codec::command("PING", b"\x00\x0ahello"))
        .await
        .unwrap();
    let pong = read_frame(&mut peer).await;
    assert!(pong.is_command());
    assert_eq!(&pong.body[..], b"\x04PONGhello");
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_loses_messages_not_the_others() {
    let mut opts = options(1 << 20);
    opts.queue_bound = 256 << 10;
    let mut xpub = XPub::bind("iopub", LOCAL, opts).await.unwrap();
    let at = xpub.local_addr();
    // The stuck one subscribes with a ZMTP 3.0 subscription message and never reads again.
    let mut stuck = raw_peer(at.port(), "SUB").await;
    stuck.write_all(&[0x00, 1, 0x01]).await.unwrap();
    assert_eq!(
        within(xpub.recv()).await.unwrap(),
        Bytes::from_static(b"\x01")
    );
    let mut reader = zeromq::SubSocket::new();
    reader.connect(&endpoint(at)).await.unwrap();
    reader.subscribe("").await.unwrap();
    within(xpub.recv()).await.unwrap();

    let body = Bytes::from(vec![7u8; 64 << 10]);
    // 25 MiB: far past the socket buffers and the bound. Each message is read by the reading
    // subscriber before the next goes, so only the stuck one can fall behind.
    for i in 0..400 {
        xpub.publish(&[Bytes::from(format!("{i}")), body.clone()]);
        let got = within(reader.recv()).await.unwrap().into_vec();
        assert_eq!(got[0], Bytes::from(format!("{i}")), "in order, none lost");
    }
    assert!(logged("iopub: a frontend is not reading"));
    drop(stuck);
}
