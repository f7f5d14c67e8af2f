//! What a run must undo however it ends: stop its servers, then delete what they and
//! the benchmark wrote to the shared Redis, once nothing writes there any more.

use anyhow::Result;
use ovsr_server::RunningServer;
use tokio::runtime::Runtime;

use super::redis::{RedisConnection, RedisTarget};
use super::schemas::Served;

/// The sorted set the server flushes read counts into (`ovsr_cache`'s layout).
const READ_COUNTS_KEY: &str = "ovsr:v1:reads";

/// Servers to stop and Redis keys to delete, gathered as the run creates them.
#[derive(Debug, Default)]
pub struct Cleanup {
    servers: Vec<RunningServer>,
    redis: Option<RedisTarget>,
    keys: Vec<String>,
    read_count_members: Vec<String>,
}

impl Cleanup {
    /// Stops `server` at the end.
    pub fn stop_server(&mut self, server: RunningServer) {
        self.servers.push(server);
    }

    /// Deletes `keys` from `target` at the end.
    pub fn delete_keys(&mut self, target: &RedisTarget, keys: impl IntoIterator<Item = String>) {
        self.redis = Some(target.clone());
        self.keys.extend(keys);
    }

    /// Deletes at the end what a server with Redis at `target` writes for `served`
    /// in `namespace`: its keys and its read counts.
    pub fn forget_server_writes(
        &mut self,
        target: &RedisTarget,
        namespace: &str,
        served: &[Served],
    ) {
        self.delete_keys(target, server_keys(namespace, served));
        let members = served.iter().map(|s| format!("{namespace}/{}", s.name));
        self.read_count_members.extend(members);
    }

    /// Stops the servers on `servers`, so nothing writes to Redis any more, then
    /// deletes the keys and read counts from `client`.
    pub fn finish(self, servers: &Runtime, client: &Runtime) -> Result<()> {
        for server in self.servers {
            servers.block_on(server.shutdown())?;
        }
        let Some(target) = self.redis else {
            return Ok(());
        };
        client.block_on(async {
            let mut connection = RedisConnection::connect(&target).await?;
            connection.delete_all(&self.keys).await?;
            let members = &self.read_count_members;
            connection.remove_members(READ_COUNTS_KEY, members).await
        })
    }
}

/// The Redis keys a server writes for `served` (`ovsr_cache`'s layout, version 1):
/// latest number, version record, content, and the owner of each digest.
fn server_keys(namespace: &str, served: &[Served]) -> Vec<String> {
    let mut keys = Vec::with_capacity(served.len() * 5);
    for schema in served {
        let full = format!("{namespace}/{}", schema.name);
        keys.push(format!("ovsr:v1:latest:{full}"));
        keys.push(format!("ovsr:v1:version:{full}/{}", schema.version));
        keys.push(format!("ovsr:v1:content:{}", schema.digest));
        keys.push(format!("ovsr:v1:owner:live:{}", schema.digest));
        keys.push(format!("ovsr:v1:owner:any:{}", schema.digest));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_served_schema_leaves_five_keys_to_delete() {
        let served = Served {
            name: "schema-0000".to_owned(),
            content: "{}".to_owned(),
            version: 1,
            digest: "sha256:ab".to_owned(),
            served_bytes: 2,
        };
        let keys = server_keys("cache-bench-1", &[served]);
        assert_eq!(keys.len(), 5);
        assert_eq!(keys[0], "ovsr:v1:latest:cache-bench-1/schema-0000");
        assert_eq!(keys[1], "ovsr:v1:version:cache-bench-1/schema-0000/1");
        assert_eq!(keys[2], "ovsr:v1:content:sha256:ab");
    }
}
