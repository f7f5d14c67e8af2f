//! Just enough of the Redis protocol to set the benchmark's own keys beforehand and
//! delete them, with what the server wrote, afterwards. Commands of a batch are
//! pipelined: all written, then every reply read.

use std::fmt;

use anyhow::{Context as _, Result, bail};
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::io::{BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Commands sent per pipelined batch, to bound what waits in the socket buffers.
const BATCH: usize = 512;

/// Where Redis listens, from a `redis://host:port[/db]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database number.
    pub db: u32,
}

impl RedisTarget {
    /// Parses a plain `redis://` URL. Credentials, TLS and clusters are refused: the
    /// benchmark drives redis-benchmark with the same target, and keeps to the simple
    /// case.
    pub fn parse(url: &str) -> Result<Self> {
        let Some(rest) = url.strip_prefix("redis://") else {
            bail!("only redis://host:port[/db] URLs are supported here");
        };
        if rest.contains('@') {
            bail!("URLs with credentials are not supported here");
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().context("redis port")?),
            None => (authority, 6379),
        };
        if host.is_empty() {
            bail!("the Redis URL names no host");
        }
        let db = match path.trim_end_matches('/') {
            "" => 0,
            db => db.parse().context("redis database number")?,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            db,
        })
    }
}

impl fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} db {}", self.host, self.port, self.db)
    }
}

/// One reply, as far as the benchmark reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and the like.
    Status(String),
    /// An integer, such as a count of keys deleted.
    Integer(i64),
    /// A string, or `None` for a missing one.
    Bulk(Option<Vec<u8>>),
    /// An array of replies, or `None` for a missing one.
    Array(Option<Vec<Reply>>),
}

/// A connection to Redis.
#[derive(Debug)]
pub struct RedisConnection {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
}

impl RedisConnection {
    /// Connects, checks that Redis answers, and selects the target's database.
    pub async fn connect(target: &RedisTarget) -> Result<Self> {
        let address = (target.host.as_str(), target.port);
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connecting to Redis at {target}"))?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut connection = Self {
            reader: BufReader::new(read),
            writer: BufWriter::new(write),
        };
        connection.run(&[vec![b"PING".to_vec()]]).await?;
        let db = target.db.to_string().into_bytes();
        connection.run(&[vec![b"SELECT".to_vec(), db]]).await?;
        Ok(connection)
    }

    /// Sets every key of `keys` to `value`, with a time to live, so keys a run fails
    /// to delete still go away.
    pub async fn set_all(&mut self, keys: &[String], value: &[u8], ttl_secs: u64) -> Result<()> {
        let ttl = ttl_secs.to_string().into_bytes();
        let commands: Vec<Vec<Vec<u8>>> = keys
            .iter()
            .map(|key| {
                let (key, value) = (key.as_bytes().to_vec(), value.to_vec());
                vec![b"SET".to_vec(), key, value, b"EX".to_vec(), ttl.clone()]
            })
            .collect();
        self.run_batched(commands).await
    }

    /// Deletes `keys`, one DEL each (they may be spread over a cluster's slots).
    pub async fn delete_all(&mut self, keys: &[String]) -> Result<()> {
        let commands = keys
            .iter()
            .map(|key| vec![b"DEL".to_vec(), key.as_bytes().to_vec()])
            .collect();
        self.run_batched(commands).await
    }

    /// Removes `members` from the sorted set `key`.
    pub async fn remove_members(&mut self, key: &str, members: &[String]) -> Result<()> {
        let commands = members
            .iter()
            .map(|member| {
                let (key, member) = (key.as_bytes().to_vec(), member.as_bytes().to_vec());
                vec![b"ZREM".to_vec(), key, member]
            })
            .collect();
        self.run_batched(commands).await
    }

    async fn run_batched(&mut self, commands: Vec<Vec<Vec<u8>>>) -> Result<()> {
        for batch in commands.chunks(BATCH) {
            self.run(batch).await?;
        }
        Ok(())
    }

    /// Writes every command, then reads every reply; the first error reply fails.
    async fn run(&mut self, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>> {
        for command in commands {
            self.writer.write_all(&encode(command)).await?;
        }
        self.writer.flush().await?;
        let mut replies = Vec::with_capacity(commands.len());
        for _ in commands {
            replies.push(read_reply(&mut self.reader).await?);
        }
        Ok(replies)
    }
}

/// A command as a RESP array of bulk strings.
fn encode(arguments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", arguments.len()).into_bytes();
    for argument in arguments {
        out.extend_from_slice(format!("${}\r\n", argument.len()).as_bytes());
        out.extend_from_slice(argument);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one reply; an error reply is an error.
async fn read_reply<R: AsyncBufRead + Unpin + Send>(reader: &mut R) -> Result<Reply> {
    let line = read_line(reader).await?;
    let (kind, rest) = line.split_at(1);
    match kind {
        "+" => Ok(Reply::Status(rest.to_owned())),
        "-" => bail!("Redis answered an error: {rest}"),
        ":" => Ok(Reply::Integer(rest.parse().context("integer reply")?)),
        "$" => {
            let Ok(length) = usize::try_from(rest.parse::<i64>()?) else {
                return Ok(Reply::Bulk(None));
            };
            let mut data = vec![0; length + 2];
            reader.read_exact(&mut data).await?;
            data.truncate(length);
            Ok(Reply::Bulk(Some(data)))
        }
        "*" => {
            let Ok(count) = usize::try_from(rest.parse::<i64>()?) else {
                return Ok(Reply::Array(None));
            };
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(Box::pin(read_reply(reader)).await?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => bail!("unexpected reply from Redis: {line:?}"),
    }
}

async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        bail!("Redis closed the connection");
    }
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        bail!("empty reply line from Redis");
    }
    Ok(line.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_and_database() {
        let target = RedisTarget::parse("redis://127.0.0.1:6380/2").expect("parses");
        assert_eq!(
            (target.host.as_str(), target.port, target.db),
            ("127.0.0.1", 6380, 2)
        );
        let target = RedisTarget::parse("redis://cache").expect("parses");
        assert_eq!((target.port, target.db), (6379, 0));
        assert!(RedisTarget::parse("redis://user:secret@cache:6379").is_err());
        assert!(RedisTarget::parse("redis-cluster://cache:6379").is_err());
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let command = encode(&[b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(command, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".to_vec());
    }

    #[tokio::test]
    async fn replies_are_read_one_after_another() {
        let mut wire: &[u8] = b"+OK\r\n:3\r\n$2\r\nhi\r\n$-1\r\n*2\r\n:1\r\n+PONG\r\n-ERR no\r\n";
        let mut reader = BufReader::new(&mut wire);
        let mut replies = Vec::new();
        for _ in 0..5 {
            replies.push(read_reply(&mut reader).await.expect("reads"));
        }
        assert_eq!(replies[0], Reply::Status("OK".to_owned()));
        assert_eq!(replies[1], Reply::Integer(3));
        assert_eq!(replies[2], Reply::Bulk(Some(b"hi".to_vec())));
        assert_eq!(replies[3], Reply::Bulk(None));
        let pair = vec![Reply::Integer(1), Reply::Status("PONG".to_owned())];
        assert_eq!(replies[4], Reply::Array(Some(pair)));
        assert!(read_reply(&mut reader).await.is_err());
    }
}
