//! The load generator: a closed-loop HTTP/1.1 client as lean as `wrk`, so
//! that on a small machine, where client, server and database share the
//! cores, the figures are the server's and not the client's.
//!
//! Each worker owns one keep-alive `TcpStream` (`TCP_NODELAY`) and sends its
//! next request when it has read the previous answer. A request is written
//! from bytes formatted ahead ([`Route`]: the request line and headers) and
//! a body written into a buffer the worker reuses ([`Request`]). An answer
//! is read by a small parser (status line, `Content-Length`,
//! `Transfer-Encoding: chunked`, `Connection: close`, or a body up to the
//! close) into a reused buffer, and handed as bytes ([`Answer`]) to the
//! bench, which classifies it with byte searches ([`inbound_outcomes`],
//! [`string_at`]): no JSON value is built for an answer where a search is
//! unambiguous. A connection the server closed is opened again; a request
//! that got nothing back on a connection used before (closed while idle) is
//! sent once more on a new one, as hyper's client does.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{CpuMeter, Outcomes, Stats};

/// Where the load goes: a server at `http://IP:port`.
#[derive(Clone, Debug)]
pub struct Target {
    address: SocketAddr,
    /// `IP:port`, the `Host` header.
    authority: String,
}

impl Target {
    /// `base` is the server's address as `http://IP:port`.
    pub fn new(base: &str) -> Self {
        let authority = base.strip_prefix("http://").unwrap_or(base);
        let authority = authority.trim_end_matches('/');
        let address = authority
            .parse()
            .unwrap_or_else(|error| panic!("{base} is not http://IP:port: {error}"));
        Self {
            address,
            authority: authority.to_owned(),
        }
    }
}

/// The fixed part of a request, formatted once: its request line and its
/// headers (`Host`, `Authorization`, `Content-Type`), all but the length.
#[derive(Clone, Debug)]
pub struct Route {
    head: Box<[u8]>,
}

impl Route {
    /// A request without a body.
    pub fn get(target: &Target, path: &str) -> Self {
        Self::new("GET", target, path, None, false)
    }

    /// A request with a JSON body, and a bearer token if given.
    pub fn json(method: &str, target: &Target, path: &str, token: Option<&str>) -> Self {
        Self::new(method, target, path, token, true)
    }

    fn new(method: &str, target: &Target, path: &str, token: Option<&str>, json: bool) -> Self {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", target.authority);
        if let Some(token) = token {
            head.push_str("Authorization: Bearer ");
            head.push_str(token);
            head.push_str("\r\n");
        }
        if json {
            head.push_str("Content-Type: application/json\r\n");
        }
        Self {
            head: head.into_bytes().into_boxed_slice(),
        }
    }
}

/// A worker's next request, written into buffers it reuses.
#[derive(Default)]
pub struct Request {
    bytes: Vec<u8>,
    body: Vec<u8>,
}

impl Request {
    /// The route's request, without a body.
    pub fn bodiless(&mut self, route: &Route) {
        self.bytes.clear();
        self.bytes.extend_from_slice(&route.head);
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// The route's request with `body` (e.g. `format_args!(...)` with
    /// [`Quoted`] strings) as its body.
    pub fn body(&mut self, route: &Route, body: impl fmt::Display) {
        self.body.clear();
        write!(self.body, "{body}").expect("a Vec takes every write");
        self.bytes.clear();
        self.bytes.extend_from_slice(&route.head);
        write!(self.bytes, "Content-Length: {}\r\n\r\n", self.body.len())
            .expect("a Vec takes every write");
        self.bytes.extend_from_slice(&self.body);
    }
}

/// A string as a JSON string: quoted, with what must be escaped escaped.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let mut plain = 0;
        for (at, byte) in self.0.bytes().enumerate() {
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                f.write_str(&self.0[plain..at])?;
                match byte {
                    b'"' => f.write_str("\\\"")?,
                    b'\\' => f.write_str("\\\\")?,
                    _ => write!(f, "\\u{byte:04x}")?,
                }
                plain = at + 1;
            }
        }
        f.write_str(&self.0[plain..])?;
        f.write_str("\"")
    }
}

/// An answer as it came: its status and its body (de-chunked).
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl Answer<'_> {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|&byte| byte == first) {
        let at = from + offset;
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The text of the JSON string that starts right after the first `needle`
/// (which ends with its opening quote, e.g. `"first_name":"`), as written:
/// escapes are left as they are. The servers write compact JSON (no
/// spaces), and `"key":` can only be a key, never inside a string (whose
/// quotes are escaped), so a key the answer holds once is found for sure.
pub fn string_at<'a>(body: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    let start = find(body, needle)? + needle.len();
    let mut at = start;
    while at < body.len() {
        match body[at] {
            b'\\' => at += 2,
            b'"' => return Some(&body[start..at]),
            _ => at += 1,
        }
    }
    None
}

/// The unsigned integer right after the first `needle` (e.g. `"updated":`).
pub fn number_at(body: &[u8], needle: &[u8]) -> Option<usize> {
    let start = find(body, needle)? + needle.len();
    let digits = body[start..]
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    std::str::from_utf8(&body[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

/// Reads the answer of a request to a route that changes nothing: served
/// if its status is a success.
pub fn served(answer: Answer<'_>) -> Outcomes {
    if answer.is_success() {
        Outcomes::served()
    } else {
        Outcomes::http_error()
    }
}

/// Reads the answer of an admin API create of a lead
/// (`POST /api/v1/leads`): created if it is a `201` carrying the new
/// lead's `lead_profile_uid` (a string).
pub fn lead_created(answer: Answer<'_>) -> Outcomes {
    if answer.status == 201 && find(answer.body, br#""lead_profile_uid":""#).is_some() {
        Outcomes::created()
    } else {
        Outcomes::http_error()
    }
}

/// Reads an inbound funnel update's answer
/// (`host/src/http/funnel_import/contract.rs`): a single update's top-level
/// `"status"` (`updated`, `unchanged`, anything else counted failed), or
/// the per-record counts (`"updated":N`, `"unchanged":N`, `"failed":N`) of
/// a batch or of a request through a transform, whose answers carry
/// `"results":` (and a `"status"` per record, which is not the answer's).
/// An error status, or an answer of neither shape, is an HTTP error.
pub fn inbound_outcomes(answer: Answer<'_>) -> Outcomes {
    if !answer.is_success() {
        return Outcomes::http_error();
    }
    let body = answer.body;
    if find(body, b"\"results\":").is_none()
        && let Some(status) = string_at(body, b"\"status\":\"")
    {
        return match status {
            b"updated" => Outcomes::updated(),
            b"unchanged" => Outcomes::unchanged(),
            _ => Outcomes {
                failed: 1,
                ..Outcomes::default()
            },
        };
    }
    let count = |needle: &[u8]| number_at(body, needle).unwrap_or(0);
    let outcomes = Outcomes {
        // Only transformed requests' answers carry it (lead sync).
        created: count(b"\"created\":"),
        updated: count(b"\"updated\":"),
        unchanged: count(b"\"unchanged\":"),
        failed: count(b"\"failed\":"),
        ..Outcomes::default()
    };
    if outcomes == Outcomes::default() {
        // Neither shape: not an answer this benchmark understands.
        Outcomes::http_error()
    } else {
        outcomes
    }
}

/// A batch answer's per-record results: each record's place in the batch
/// and its status. Parsed into borrowed fields only (no JSON value); a
/// batch answer is one per hundred records.
#[derive(Deserialize)]
pub struct BatchResults<'a> {
    #[serde(borrow, default)]
    pub results: Vec<RecordResult<'a>>,
}

#[derive(Deserialize)]
pub struct RecordResult<'a> {
    pub index: Option<usize>,
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
}

impl<'a> BatchResults<'a> {
    /// The results of a successful answer, or none.
    pub fn of(answer: Answer<'a>) -> Self {
        answer
            .is_success()
            .then(|| serde_json::from_slice(answer.body).ok())
            .flatten()
            .unwrap_or(Self {
                results: Vec::new(),
            })
    }
}

/// Why an exchange failed.
struct Failed {
    /// Nothing came back on a connection used before: the server may have
    /// closed it while idle, before it read the request; send it again.
    retry: bool,
}

/// How an answer's body ends.
#[derive(Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// An answer's head, parsed.
#[derive(Clone, Copy)]
struct Head {
    status: u16,
    /// Its length, up to and with the blank line.
    len: usize,
    framing: Framing,
    close: bool,
}

/// Where the body of a complete answer is.
struct Exchanged {
    status: u16,
    /// In the read buffer, or (`None`) the de-chunked body.
    body: Option<Range<usize>>,
}

/// One worker's keep-alive connection.
struct Connection {
    address: SocketAddr,
    stream: Option<TcpStream>,
    /// What was read of the current answer.
    read: Vec<u8>,
    /// The current answer's body when it came chunked.
    dechunked: Vec<u8>,
}

impl Connection {
    fn new(target: &Target) -> Self {
        Self {
            address: target.address,
            stream: None,
            read: Vec::with_capacity(16 * 1024),
            dechunked: Vec::new(),
        }
    }

    /// Sends `request` and reads its answer (sending it once more on a new
    /// connection if the one used before was found closed).
    async fn exchange(&mut self, request: &[u8]) -> Result<Answer<'_>, ()> {
        let exchanged = match self.send_and_read(request).await {
            Ok(exchanged) => exchanged,
            Err(Failed { retry: true }) => self.send_and_read(request).await.map_err(|_| ())?,
            Err(Failed { retry: false }) => return Err(()),
        };
        let body = match exchanged.body {
            Some(range) => &self.read[range],
            None => &self.dechunked[..],
        };
        Ok(Answer {
            status: exchanged.status,
            body,
        })
    }

    async fn send_and_read(&mut self, request: &[u8]) -> Result<Exchanged, Failed> {
        let reused = self.stream.is_some();
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.address)
                .await
                .map_err(|_| Failed { retry: false })?;
            stream
                .set_nodelay(true)
                .map_err(|_| Failed { retry: false })?;
            self.stream = Some(stream);
        }
        let result = self.send_and_read_on(request).await;
        match &result {
            Ok((_, close)) if !close => {}
            _ => self.stream = None,
        }
        result
            .map(|(exchanged, _)| exchanged)
            .map_err(|nothing_read| Failed {
                retry: reused && nothing_read,
            })
    }

    /// The exchange on the open connection: the answer and whether the
    /// server closes the connection after it, or whether nothing at all
    /// was read.
    async fn send_and_read_on(&mut self, request: &[u8]) -> Result<(Exchanged, bool), bool> {
        let Self {
            stream,
            read,
            dechunked,
            ..
        } = self;
        let stream = stream.as_mut().expect("connected");
        read.clear();
        stream.write_all(request).await.map_err(|_| true)?;
        let mut head: Option<Head> = None;
        loop {
            if head.is_none() {
                head = parse_head(read).map_err(|_| false)?;
                if let Some(interim) = head.filter(|head| head.status < 200) {
                    // 1xx: another head follows.
                    read.drain(..interim.len);
                    head = None;
                    continue;
                }
            }
            if let Some(head) = head {
                let body = match head.framing {
                    Framing::Length(len) => {
                        (read.len() >= head.len + len).then(|| Some(head.len..head.len + len))
                    }
                    Framing::Chunked => dechunk(&read[head.len..], dechunked)
                        .map_err(|_| false)?
                        .then_some(None),
                    Framing::UntilClose => None,
                };
                if let Some(body) = body {
                    let exchanged = Exchanged {
                        status: head.status,
                        body,
                    };
                    return Ok((exchanged, head.close));
                }
            }
            if read.capacity() - read.len() < 4096 {
                read.reserve(16 * 1024);
            }
            let got = stream.read_buf(read).await.map_err(|_| read.is_empty())?;
            if got == 0 {
                return match head {
                    Some(head) if matches!(head.framing, Framing::UntilClose) => {
                        let exchanged = Exchanged {
                            status: head.status,
                            body: Some(head.len..read.len()),
                        };
                        Ok((exchanged, true))
                    }
                    _ => Err(read.is_empty()),
                };
            }
        }
    }
}

/// The answer's head, once `read` holds all of it; an error for what is
/// not an HTTP/1.x answer.
fn parse_head(read: &[u8]) -> Result<Option<Head>, ()> {
    let Some(end) = find(read, b"\r\n\r\n") else {
        return Ok(None);
    };
    let mut lines = read[..end].split(|&byte| byte == b'\n');
    let status_line = lines.next().ok_or(())?;
    if !status_line.starts_with(b"HTTP/1.") || status_line.len() < 12 {
        return Err(());
    }
    let status: u16 = std::str::from_utf8(&status_line[9..12])
        .map_err(|_| ())?
        .parse()
        .map_err(|_| ())?;
    let mut length = None;
    let mut chunked = false;
    let mut close = status_line.starts_with(b"HTTP/1.0");
    for line in lines {
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            let value = std::str::from_utf8(value).map_err(|_| ())?;
            length = Some(value.parse::<usize>().map_err(|_| ())?);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = value
                .split(|&byte| byte == b',')
                .any(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"connection") {
            close = value.eq_ignore_ascii_case(b"close");
        }
    }
    let framing = match (status, chunked, length) {
        (204 | 304, ..) => Framing::Length(0),
        (_, true, _) => Framing::Chunked,
        (_, false, Some(length)) => Framing::Length(length),
        (_, false, None) => Framing::UntilClose,
    };
    Ok(Some(Head {
        status,
        len: end + 4,
        framing,
        close: close || matches!(framing, Framing::UntilClose),
    }))
}

/// De-chunks a chunked body into `out`: true once it is complete (with its
/// trailers), false while more must be read, an error if it is malformed.
fn dechunk(data: &[u8], out: &mut Vec<u8>) -> Result<bool, ()> {
    out.clear();
    let mut at = 0;
    loop {
        let Some(line) = find(&data[at..], b"\r\n") else {
            return Ok(false);
        };
        let size = &data[at..at + line];
        let size = size
            .iter()
            .position(|&byte| byte == b';')
            .map_or(size, |end| &size[..end])
            .trim_ascii();
        let size = std::str::from_utf8(size).map_err(|_| ())?;
        let size = usize::from_str_radix(size, 16).map_err(|_| ())?;
        at += line + 2;
        if size == 0 {
            // Trailers, up to an empty line.
            loop {
                let Some(line) = find(&data[at..], b"\r\n") else {
                    return Ok(false);
                };
                if line == 0 {
                    return Ok(true);
                }
                at += line + 2;
            }
        }
        if data.len() < at + size + 2 {
            return Ok(false);
        }
        out.extend_from_slice(&data[at..at + size]);
        if &data[at + size..at + size + 2] != b"\r\n" {
            return Err(());
        }
        at += size + 2;
    }
}

/// Runs `concurrency` workers against `target`, each sending requests
/// back to back on its own keep-alive connection, for a warm-up second and
/// then `duration`. `request(request, worker, n)` writes the worker's
/// `n`th request into `request` and returns what reads its answer into
/// [`Outcomes`]; a request not answered at all counts as an HTTP error.
pub async fn measure<F, R>(
    target: &Target,
    concurrency: usize,
    duration: Duration,
    request: F,
) -> Stats
where
    F: Fn(&mut Request, usize, usize) -> R + Send + Sync + Clone + 'static,
    R: for<'a> FnOnce(Answer<'a>) -> Outcomes + Send,
{
    measure_after(
        Duration::from_secs(1),
        target,
        concurrency,
        duration,
        request,
    )
    .await
}

/// [`measure`] with another warm-up (zero: every request is measured).
/// Every request sent is awaited to its answer, also at the end.
pub async fn measure_after<F, R>(
    warm_up: Duration,
    target: &Target,
    concurrency: usize,
    duration: Duration,
    request: F,
) -> Stats
where
    F: Fn(&mut Request, usize, usize) -> R + Send + Sync + Clone + 'static,
    R: for<'a> FnOnce(Answer<'a>) -> Outcomes + Send,
{
    let start = Instant::now();
    let cpu = CpuMeter::start_after(warm_up);
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let request = request.clone();
            let mut connection = Connection::new(target);
            tokio::spawn(async move {
                let mut next = Request::default();
                let mut latencies = Vec::new();
                let mut outcomes = Outcomes::default();
                let mut complete = 0;
                let mut n = 0;
                while start.elapsed() < warm_up + duration {
                    let read = request(&mut next, worker, n);
                    let sent = Instant::now();
                    let outcome = match connection.exchange(&next.bytes).await {
                        Ok(answer) => read(answer),
                        Err(()) => Outcomes::http_error(),
                    };
                    if sent.duration_since(start) >= warm_up {
                        latencies.push(sent.elapsed());
                        outcomes.add(outcome);
                        complete += usize::from(outcome.complete());
                    }
                    n += 1;
                }
                (latencies, outcomes, complete)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut outcomes = Outcomes::default();
    let mut complete = 0;
    for worker in workers {
        let (latencies, worker_outcomes, worker_complete) = worker.await.expect("worker");
        all.extend(latencies);
        outcomes.add(worker_outcomes);
        complete += worker_complete;
    }
    let ended = Instant::now();
    all.sort();
    let percentile = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let requests = all.len();
    cpu.report(requests).await;
    Stats {
        rate: requests as f64 / duration.as_secs_f64(),
        p50: percentile(0.50),
        p99: percentile(0.99),
        requests,
        complete,
        invalid: Stats::validity(requests, complete, &outcomes),
        outcomes,
        started: start + warm_up,
        ended,
    }
}
