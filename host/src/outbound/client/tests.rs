//! The sender against real local receivers: policy at every hop (literal,
//! resolver, redirect), timeouts, caps, connection reuse, `Retry-After`.

use super::*;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use std::net::IpAddr;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn loopback_allowed() -> DestinationPolicy {
    DestinationPolicy::parse_list("127.0.0.0/8").expect("valid CIDR")
}

fn client(policy: DestinationPolicy) -> WebhookClient {
    WebhookClient::new(policy).expect("client builds")
}

fn get_request(url: String) -> OutboundRequest {
    OutboundRequest {
        method: Method::GET,
        url,
        headers: Vec::new(),
        body: None,
        timeout: Duration::from_secs(5),
    }
}

/// What the test receiver saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: AxumHeaders,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Receiver {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

async fn record(
    State(receiver): State<Receiver>,
    method: AxumMethod,
    uri: axum::http::Uri,
    headers: AxumHeaders,
    body: Bytes,
) -> impl IntoResponse {
    receiver.seen.lock().expect("not poisoned").push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body: body.to_vec(),
    });
    (
        StatusCode::CREATED,
        [("x-receiver", "yes")],
        "thanks".to_owned(),
    )
}

async fn redirect_to(
    State(receiver): State<Receiver>,
    Path(target): Path<String>,
) -> impl IntoResponse {
    receiver.seen.lock().expect("not poisoned").push(Seen {
        method: "GET".to_owned(),
        path: format!("/redirect/{target}"),
        headers: AxumHeaders::new(),
        body: Vec::new(),
    });
    let location = match target.as_str() {
        "private" => "http://10.0.0.1/".to_owned(),
        "metadata" => "http://169.254.169.254/latest/meta-data/".to_owned(),
        "mapped" => "http://[::ffff:10.0.0.1]/".to_owned(),
        "ftp" => "ftp://example.com/hook".to_owned(),
        "file" => "file:///etc/passwd".to_owned(),
        "local" => "/hook".to_owned(),
        other => format!("/redirect/{other}x"),
    };
    (StatusCode::FOUND, [("location", location)])
}

/// Starts the test receiver on 127.0.0.1 and returns its base URL.
async fn start_receiver() -> (String, Receiver) {
    let receiver = Receiver::default();
    let router = Router::new()
        .route("/hook", any(record))
        .route("/redirect/{target}", get(redirect_to))
        .route(
            "/retry-seconds",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "7")]) }),
        )
        .route(
            "/big/{size}",
            get(|Path(size): Path<usize>| async move { vec![b'x'; size] }),
        )
        .route("/hang", get(std::future::pending::<()>))
        .with_state(receiver.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local addr");
    let connections = Arc::clone(&receiver.connections);
    let listener = listener.tap_io(move |_| {
        connections.fetch_add(1, Ordering::SeqCst);
    });
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("receiver runs");
    });
    (format!("http://{address}"), receiver)
}

/// A server that reads the request and answers with `response` verbatim,
/// then keeps the connection open (for half-sent bodies).
async fn start_raw(response: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(response).await;
                std::future::pending::<()>().await;
            });
        }
    });
    format!("http://{address}")
}

#[test]
fn check_url_refuses_bad_urls_without_dns() {
    let client = client(DestinationPolicy::default());
    let refused = [
        ("not a url", "invalid_url"),
        ("ftp://example.com/hook", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("mailto:someone@example.com", "invalid_url"),
        ("http://10.0.0.1/hook", "destination_refused"),
        ("http://127.0.0.1:8080/", "destination_refused"),
        ("http://[::1]/", "destination_refused"),
        ("http://[::ffff:127.0.0.1]/", "destination_refused"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "destination_refused",
        ),
        // The URL parser normalises these to 127.0.0.1.
        ("http://2130706433/", "destination_refused"),
        ("http://0x7f.1/", "destination_refused"),
        ("https://0.0.0.0/", "destination_refused"),
    ];
    for (url, kind) in refused {
        let error = client.check_url(url).expect_err(url);
        assert_eq!(error.kind(), kind, "{url}: {error}");
    }
    let accepted = client
        .check_url("https://hooks.example.com/in?x=1")
        .expect("a public name is fine");
    assert_eq!(accepted.host_str(), Some("hooks.example.com"));
    client
        .check_url("http://8.8.8.8/")
        .expect("a public literal is fine");
}

#[tokio::test]
async fn post_reaches_an_allowed_local_receiver() {
    let (base, receiver) = start_receiver().await;
    let response = client(loopback_allowed())
        .send(OutboundRequest {
            method: Method::POST,
            url: format!("{base}/hook"),
            headers: vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("webhook-id".to_owned(), "msg_1".to_owned()),
                ("x-repeated".to_owned(), "a".to_owned()),
                ("x-repeated".to_owned(), "b".to_owned()),
            ],
            body: Some(br#"{"event":"lead.created"}"#.to_vec()),
            timeout: Duration::from_secs(5),
        })
        .await
        .expect("delivered");

    assert_eq!(response.status, 201);
    assert_eq!(response.body, b"thanks");
    assert!(!response.body_truncated);
    assert!(response.retry_after.is_none());
    assert!(
        response
            .headers
            .contains(&("x-receiver".to_owned(), "yes".to_owned())),
        "{:?}",
        response.headers
    );
    assert!(response.duration > Duration::ZERO);

    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hook");
    assert_eq!(request.body, br#"{"event":"lead.created"}"#);
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["webhook-id"], "msg_1");
    let repeated: Vec<_> = request.headers.get_all("x-repeated").iter().collect();
    assert_eq!(repeated, ["a", "b"]);
    assert_eq!(
        request.headers["user-agent"],
        format!("Switchyard-Webhooks/{}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn loopback_receiver_is_refused_when_nothing_is_allowed() {
    let (base, receiver) = start_receiver().await;
    let error = client(DestinationPolicy::default())
        .send(get_request(format!("{base}/hook")))
        .await
        .expect_err("loopback refused");
    assert_eq!(
        error,
        SendError::DestinationRefused {
            host: "127.0.0.1".to_owned(),
            address: ip("127.0.0.1"),
        }
    );
    assert!(
        error.to_string().contains("--outbound-allow-cidr"),
        "{error}"
    );
    assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn localhost_by_name_is_refused_by_the_resolver() {
    let (base, receiver) = start_receiver().await;
    let url = base.replace("127.0.0.1", "localhost");
    let client = client(DestinationPolicy::default());
    client
        .check_url(&url)
        .expect("names are only judged when resolved");
    let error = client
        .send(get_request(format!("{url}/hook")))
        .await
        .expect_err("localhost refused");
    match &error {
        SendError::DestinationRefused { host, address } => {
            assert_eq!(host, "localhost");
            assert!(address.is_loopback(), "{address}");
        }
        other => panic!("expected DestinationRefused, got {other:?} ({other})"),
    }
    assert!(
        error.to_string().contains("localhost resolves to"),
        "{error}"
    );
    assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn localhost_by_name_is_reached_when_loopback_is_allowed() {
    // Only IPv4 loopback is allowed: if `localhost` also resolves to ::1,
    // the resolver drops it and the request still reaches 127.0.0.1.
    let (base, receiver) = start_receiver().await;
    let url = base.replace("127.0.0.1", "localhost");
    let response = client(loopback_allowed())
        .send(get_request(format!("{url}/hook")))
        .await
        .expect("delivered");
    assert_eq!(response.status, 201);
    assert_eq!(receiver.seen().len(), 1);
}

#[tokio::test]
async fn unresolvable_name_is_a_dns_error() {
    // `.invalid` never resolves (RFC 6761).
    // Without a reachable DNS server, getaddrinfo gives up after its own
    // timeouts (about 10 s) with a Dns error too, hence the long timeout.
    let error = client(DestinationPolicy::default())
        .send(OutboundRequest {
            timeout: Duration::from_secs(30),
            ..get_request("http://switchyard-test.invalid/".to_owned())
        })
        .await
        .expect_err("does not resolve");
    match &error {
        SendError::Dns(host, _) => assert_eq!(host, "switchyard-test.invalid"),
        other => panic!("expected Dns, got {other:?} ({other})"),
    }
}

#[tokio::test]
async fn redirects_to_private_literals_are_refused() {
    let (base, receiver) = start_receiver().await;
    let client = client(loopback_allowed());
    for (target, address) in [
        ("private", "10.0.0.1"),
        ("metadata", "169.254.169.254"),
        ("mapped", "::ffff:10.0.0.1"),
    ] {
        // A connection attempt to these would end in Connect or Timeout,
        // not in DestinationRefused.
        let error = client
            .send(get_request(format!("{base}/redirect/{target}")))
            .await
            .expect_err(target);
        assert_eq!(
            error,
            SendError::DestinationRefused {
                host: address.to_owned(),
                address: ip(address),
            },
            "{target}"
        );
    }
    let error = client
        .send(get_request(format!("{base}/redirect/ftp")))
        .await
        .expect_err("ftp redirect");
    assert_eq!(error.kind(), "invalid_url", "{error}");
    assert!(error.to_string().contains("`ftp`"), "{error}");
    // A Location without an authority never reaches the redirect policy:
    // the redirect layer cannot make an HTTP request of it and hands the
    // 302 back unfollowed, which is just as safe.
    let response = client
        .send(get_request(format!("{base}/redirect/file")))
        .await
        .expect("302 returned as is");
    assert_eq!(response.status, 302);
    assert_eq!(
        receiver.seen().len(),
        5,
        "only the redirecting requests arrived"
    );
}

#[tokio::test]
async fn redirect_to_an_allowed_local_path_is_followed() {
    let (base, receiver) = start_receiver().await;
    let response = client(loopback_allowed())
        .send(get_request(format!("{base}/redirect/local")))
        .await
        .expect("followed");
    assert_eq!(response.status, 201);
    assert_eq!(response.body, b"thanks");
    let paths: Vec<_> = receiver.seen().into_iter().map(|seen| seen.path).collect();
    assert_eq!(paths, ["/redirect/local", "/hook"]);
}

#[tokio::test]
async fn more_than_five_redirects_fail() {
    let (base, receiver) = start_receiver().await;
    let error = client(loopback_allowed())
        .send(get_request(format!("{base}/redirect/x")))
        .await
        .expect_err("endless redirects");
    assert_eq!(error, SendError::TooManyRedirects);
    // The original request plus five followed redirects.
    assert_eq!(receiver.seen().len(), 1 + MAX_REDIRECTS);
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    let (base, _receiver) = start_receiver().await;
    let started = Instant::now();
    let error = client(loopback_allowed())
        .send(OutboundRequest {
            timeout: Duration::from_millis(200),
            ..get_request(format!("{base}/hang"))
        })
        .await
        .expect_err("times out");
    assert_eq!(error, SendError::Timeout(Duration::from_millis(200)));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_timeout_covers_reading_the_body() {
    let base = start_raw(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part").await;
    let error = client(loopback_allowed())
        .send(OutboundRequest {
            timeout: Duration::from_millis(300),
            ..get_request(format!("{base}/"))
        })
        .await
        .expect_err("body never completes");
    assert_eq!(error.kind(), "timeout", "{error}");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local addr");
    drop(listener);
    let error = client(loopback_allowed())
        .send(get_request(format!("http://{address}/")))
        .await
        .expect_err("nothing listens");
    assert_eq!(error.kind(), "connect", "{error:?}");
    let message = error.to_string();
    assert!(message.contains("Connection refused"), "{message}");
    assert!(message.contains(&address.to_string()), "{message}");
    assert!(!message.contains("client error"), "{message}");
}

#[tokio::test]
async fn response_bodies_are_capped() {
    let (base, _receiver) = start_receiver().await;
    let client = client(loopback_allowed());

    let big = client
        .send(get_request(format!("{base}/big/{}", 200 * 1024)))
        .await
        .expect("delivered");
    assert_eq!(big.body.len(), RESPONSE_BODY_CAP);
    assert!(big.body_truncated);

    let exact = client
        .send(get_request(format!("{base}/big/{RESPONSE_BODY_CAP}")))
        .await
        .expect("delivered");
    assert_eq!(exact.body.len(), RESPONSE_BODY_CAP);
    assert!(!exact.body_truncated);
}

#[tokio::test]
async fn connections_are_reused() {
    let (base, receiver) = start_receiver().await;
    let client = client(loopback_allowed());
    for _ in 0..50 {
        let response = client
            .send(get_request(format!("{base}/hook")))
            .await
            .expect("delivered");
        assert_eq!(response.status, 201);
    }
    // A truncated body is drained, so even that leaves the connection usable.
    client
        .send(get_request(format!("{base}/big/{}", 100 * 1024)))
        .await
        .expect("delivered");
    client
        .send(get_request(format!("{base}/hook")))
        .await
        .expect("delivered");
    assert_eq!(receiver.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retry_after_seconds_is_read_from_the_response() {
    let (base, _receiver) = start_receiver().await;
    let response = client(loopback_allowed())
        .send(get_request(format!("{base}/retry-seconds")))
        .await
        .expect("delivered");
    assert_eq!(response.status, 503);
    assert_eq!(response.retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_read_from_the_response() {
    let base = start_raw(
        b"HTTP/1.1 429 Too Many Requests\r\nretry-after: Fri, 31 Dec 9999 23:59:59 GMT\r\ncontent-length: 0\r\n\r\n",
    )
    .await;
    let response = client(loopback_allowed())
        .send(get_request(format!("{base}/")))
        .await
        .expect("delivered");
    assert_eq!(response.status, 429);
    let delay = response.retry_after.expect("parsed");
    assert!(delay > Duration::from_secs(365 * 24 * 3600), "{delay:?}");
}

#[test]
fn retry_after_parsing() {
    let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    let cases = [
        ("120", Some(120)),
        (" 0 ", Some(0)),
        ("Wed, 21 Oct 2015 07:28:00 GMT", Some(60)),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", Some(60)),
        ("Wed Oct 21 07:28:00 2015", Some(60)),
        // In the past: retry now.
        ("Wed, 21 Oct 2015 07:00:00 GMT", Some(0)),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
        ("99999999999999999999999", None),
    ];
    for (value, expected) in cases {
        assert_eq!(
            parse_retry_after(value, now),
            expected.map(Duration::from_secs),
            "{value:?}"
        );
    }
}

#[test]
fn invalid_caller_headers_are_reported_without_their_value() {
    let error = header_map(&[("bad header".to_owned(), "x".to_owned())]).expect_err("name");
    assert!(error.to_string().contains("`bad header`"), "{error}");
    let error = header_map(&[("x-secret".to_owned(), "s3cret\nInjected: 1".to_owned())])
        .expect_err("value");
    assert!(!error.to_string().contains("s3cret"), "{error}");
    assert!(error.to_string().contains("x-secret"), "{error}");
}

#[test]
fn every_webhook_method_becomes_the_same_http_method() {
    for method in WebhookMethod::ALL {
        assert_eq!(Method::from(method).as_str(), method.as_str());
    }
}
