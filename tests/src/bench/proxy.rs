//! A TCP proxy that counts what clients send, for the bench's round-trip count: PostgreSQL
//! frontend messages (`Query`, `Parse`, `Execute` as one round trip each) and NATS commands
//! (`PUB`, `HPUB`) sorted by subject (job publishes, KV reads and writes, acks, pull requests).
//! Bytes are counted before they are forwarded, so a reply never overtakes its count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counters by kind.
pub type Counts = Arc<Mutex<HashMap<&'static str, u64>>>;

/// Starts a proxy on a free port forwarding to `target`; the client→server bytes go through
/// `tap`. Returns the port.
pub(super) fn proxy(target: String, counts: Counts, kind: Kind) -> anyhow::Result<u16> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let port = std_listener.local_addr()?.port();
    let listener = TcpListener::from_std(std_listener)?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (target, counts) = (target.clone(), counts.clone());
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&target).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let back = tokio::spawn(async move { tokio::io::copy(&mut sr, &mut cw).await });
                let mut tap = Tap {
                    kind,
                    buf: Vec::new(),
                    startup: true,
                    counts,
                };
                let mut chunk = vec![0u8; 64 * 1024];
                // Counted before it is forwarded, so a reply never overtakes its count.
                while let Ok(n) = cr.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    tap.feed(&chunk[..n]);
                    if sw.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                }
                back.abort();
            });
        }
    });
    Ok(port)
}

/// Which protocol a proxy reads.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Postgres,
    Nats,
}

/// One connection's client→server bytes, read as they pass.
struct Tap {
    kind: Kind,
    buf: Vec<u8>,
    startup: bool,
    counts: Counts,
}

impl Tap {
    fn bump(&self, what: &'static str) {
        *self.counts.lock().unwrap().entry(what).or_default() += 1;
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        match self.kind {
            Kind::Postgres => self.postgres(),
            Kind::Nats => self.nats(),
        }
    }

    /// Frontend messages: a startup packet (no type byte; an SSL request comes first), then
    /// `type, length(4), body`.
    fn postgres(&mut self) {
        loop {
            let head = if self.startup { 4 } else { 5 };
            if self.buf.len() < head {
                return;
            }
            let at = head - 4;
            let len =
                u32::from_be_bytes(self.buf[at..at + 4].try_into().expect("4 bytes")) as usize;
            let total = at + len;
            if self.buf.len() < total {
                return;
            }
            if self.startup {
                // An SSL request (80877103) is followed by the real startup packet.
                let code = u32::from_be_bytes(self.buf[4..8].try_into().expect("4 bytes"));
                self.startup = code == 80_877_103;
            } else if matches!(self.buf[0], b'Q' | b'E' | b'P') {
                // One round trip each: a simple query, an execution of a prepared statement,
                // or preparing one. (sqlx follows each with Sync and Close, which ride along.)
                self.bump("sql");
            } else if self.buf[0] == b'S' {
                self.bump("syncs");
            }
            self.buf.drain(..total);
        }
    }

    /// Client commands are lines; `PUB subject [reply] size` and `HPUB subject [reply] hsize
    /// size` are followed by a payload of `size` bytes and CRLF.
    fn nats(&mut self) {
        loop {
            let Some(eol) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let line = String::from_utf8_lossy(&self.buf[..eol]).into_owned();
            let words: Vec<&str> = line.split_whitespace().collect();
            let payload = match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
                Some("PUB") | Some("HPUB") => words
                    .last()
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(0),
                _ => {
                    self.buf.drain(..eol + 2);
                    continue;
                }
            };
            let total = eol + 2 + payload + 2;
            if self.buf.len() < total {
                return;
            }
            let subject = words.get(1).copied().unwrap_or("");
            let what = if subject.starts_with("$JS.ACK.") {
                "acks"
            } else if subject.starts_with("$JS.API.CONSUMER.MSG.NEXT.") {
                "pulls"
            } else if subject.starts_with("$KV.") {
                "kv_writes"
            } else if subject.starts_with("$JS.API.DIRECT.GET.KV_")
                || subject.starts_with("$JS.API.STREAM.MSG.GET.KV_")
            {
                "kv_reads"
            } else if subject.starts_with("updates.") || subject.starts_with("jobs.") {
                "publishes"
            } else {
                "other"
            };
            self.bump(what);
            self.buf.drain(..total);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_proxy_forwards_both_ways_and_counts_nats_publishes() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            s.write_all(b"INFO {}\r\n").await.unwrap();
            let mut buf = vec![0u8; 1024];
            let mut got = Vec::new();
            while !got.ends_with(b"PING\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"PONG\r\n").await.unwrap();
        });
        let counts: Counts = Arc::default();
        let port = proxy(addr, counts.clone(), Kind::Nats).unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut buf = vec![0u8; 64];
        let n = c.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"INFO {}\r\n");
        c.write_all(
            b"PUB jobs.reply 5\r\nhello\r\nHPUB $KV.x.y 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n",
        )
        .await
        .unwrap();
        let n = c.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"PONG\r\n");
        let counts = counts.lock().unwrap();
        assert_eq!((counts["publishes"], counts["kv_writes"]), (1, 1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_nats_client_connects_through_the_proxy() {
        let nats = crate::harness::NatsServer::start().unwrap();
        let counts: Counts = Arc::default();
        let port = proxy(
            nats.url.trim_start_matches("nats://").to_owned(),
            counts.clone(),
            Kind::Nats,
        )
        .unwrap();
        let client = async_nats::connect(format!("nats://127.0.0.1:{port}"))
            .await
            .unwrap();
        client.publish("jobs.x", "hi".into()).await.unwrap();
        // `flush` only empties the client's buffer: the proxy reads the bytes a moment later.
        client.flush().await.unwrap();
        let counted =
            crate::harness::wait_for("the publish to be counted", Duration::from_secs(5), || {
                let n = counts.lock().unwrap().get("publishes").copied();
                async move { n.filter(|n| *n >= 1) }
            })
            .await;
        assert_eq!(counted.ok(), Some(1));
    }
}
