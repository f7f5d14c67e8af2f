//! pgbench as the floor: the store's own statements, prepared, from as many clients as
//! the server has callers, with pgbench's per-transaction log for latencies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use super::RoundSample;

/// Where Debian's packages put pgbench, one folder per major version.
const DEBIAN_POSTGRES_DIR: &str = "/usr/lib/postgresql";

/// One pgbench script and the variables it reads besides its own `\set`s.
#[derive(Debug, Clone)]
pub struct PgbenchScript {
    /// The script file, written once per run.
    pub path: PathBuf,
    /// `-D name=value` pairs.
    pub defines: Vec<(String, String)>,
}

/// Runs pgbench against one database.
#[derive(Debug, Clone)]
pub struct Pgbench {
    binary: PathBuf,
    database_url: String,
    scratch: PathBuf,
    clients: usize,
}

impl Pgbench {
    /// pgbench from the PATH, else the newest of Debian's PostgreSQL folders.
    pub fn locate(database_url: &str, scratch: &Path, clients: usize) -> Result<Self> {
        let binary = crate::find_on_path("pgbench")
            .or_else(newest_debian_pgbench)
            .context(
                "pgbench not found on the PATH or under /usr/lib/postgresql/*/bin; \
                 install postgresql-contrib (or postgresql-client) for it",
            )?;
        Ok(Self {
            binary,
            database_url: database_url.to_owned(),
            scratch: scratch.to_owned(),
            clients,
        })
    }

    /// The binary used.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Writes `text` as the script `name` in the scratch folder.
    pub fn write_script(
        &self,
        name: &str,
        text: &str,
        defines: Vec<(String, String)>,
    ) -> Result<PgbenchScript> {
        let path = self.scratch.join(format!("pgbench-{name}.sql"));
        std::fs::write(&path, text).with_context(|| format!("writing {path:?}"))?;
        Ok(PgbenchScript { path, defines })
    }

    /// Runs `script` closed loop for `duration` (pgbench counts whole seconds, so at
    /// least one); transactions per second and latency percentiles.
    pub fn run(&self, script: &PgbenchScript, duration: Duration) -> Result<RoundSample> {
        let seconds = duration.as_secs_f64().round().max(1.0);
        let log_name = script
            .path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("pgbench")
            .to_owned();
        let log_prefix = self.scratch.join(&log_name);
        remove_logs(&self.scratch, &log_name)?;

        let threads = self.clients.clamp(1, 2);
        let mut command = Command::new(&self.binary);
        command
            .args(["-n", "-M", "prepared", "-l"])
            .arg(format!("--log-prefix={}", log_prefix.display()))
            .arg("-f")
            .arg(&script.path)
            .args(["-c", &self.clients.to_string(), "-j", &threads.to_string()])
            .args(["-T", &format!("{seconds:.0}")]);
        for (name, value) in &script.defines {
            command.arg("-D").arg(format!("{name}={value}"));
        }
        command.arg(&self.database_url);
        let output = command
            .output()
            .with_context(|| format!("running {:?}", self.binary))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("pgbench {:?} failed: {stderr}{stdout}", script.path);
        }
        check_no_failures(&stdout, &script.path)?;

        let tps = tps_of(&stdout).with_context(|| format!("no tps in pgbench output: {stdout}"))?;
        let mut latencies = read_latencies(&self.scratch, &log_name)?;
        remove_logs(&self.scratch, &log_name)?;
        Ok(RoundSample::from_latencies(tps, &mut latencies))
    }
}

/// `/usr/lib/postgresql/<major>/bin/pgbench` of the highest major that has one.
fn newest_debian_pgbench() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_POSTGRES_DIR)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let binary = entry.path().join("bin/pgbench");
            binary.is_file().then_some((major, binary))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, binary)| binary)
}

/// pgbench 15 counts failed transactions (serialization, deadlock) apart; any means the
/// script is wrong for this data.
fn check_no_failures(stdout: &str, script: &Path) -> Result<()> {
    let failed = stdout
        .lines()
        .find_map(|line| line.strip_prefix("number of failed transactions: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse::<u64>().ok())
        .unwrap_or(0);
    if failed > 0 {
        bail!("pgbench {script:?}: {failed} transactions failed:\n{stdout}");
    }
    Ok(())
}

/// The `tps = N (without initial connection time)` figure.
fn tps_of(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

/// Latencies in µs from every thread's log (`<prefix>.<pid>` and `<prefix>.<pid>.<n>`),
/// the third field of each line.
fn read_latencies(dir: &Path, log_name: &str) -> Result<Vec<u64>> {
    let mut latencies = Vec::new();
    for path in logs(dir, log_name)? {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path:?}"))?;
        let parsed = text
            .lines()
            .filter_map(|line| line.split_whitespace().nth(2)?.parse::<u64>().ok());
        latencies.extend(parsed);
    }
    Ok(latencies)
}

fn logs(dir: &Path, log_name: &str) -> Result<Vec<PathBuf>> {
    let prefix = format!("{log_name}.");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {dir:?}"))? {
        let entry = entry?;
        let name = entry.file_name();
        let is_log = name
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix) && !n.ends_with(".sql"));
        if is_log {
            found.push(entry.path());
        }
    }
    Ok(found)
}

fn remove_logs(dir: &Path, log_name: &str) -> Result<()> {
    for path in logs(dir, log_name)? {
        std::fs::remove_file(&path).with_context(|| format!("removing {path:?}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
transaction type: get-exact.sql
number of clients: 16
number of transactions actually processed: 20440
number of failed transactions: 0 (0.000%)
latency average = 1.563 ms
tps = 10221.481733 (without initial connection time)
";

    #[test]
    fn tps_and_failures_are_read_from_pgbench_output() {
        assert_eq!(tps_of(OUTPUT), Some(10221.481733));
        assert!(check_no_failures(OUTPUT, Path::new("x.sql")).is_ok());
        let failing = OUTPUT.replace("failed transactions: 0", "failed transactions: 3");
        assert!(check_no_failures(&failing, Path::new("x.sql")).is_err());
    }

    #[test]
    fn latencies_come_from_every_thread_log() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "pgbench-x.77",
            "0 1 120 0 1700000000 1\n1 1 340 0 1700000000 2\n",
        );
        write("pgbench-x.77.1", "2 1 560 0 1700000000 3\n");
        write("pgbench-x.sql", "SELECT 1;\n");
        let mut latencies = read_latencies(dir.path(), "pgbench-x").unwrap();
        latencies.sort_unstable();
        assert_eq!(latencies, vec![120, 340, 560]);
    }
}
