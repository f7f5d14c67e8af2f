//! Throwaway PostgreSQL servers for tests that stop and start one: run as the
//! `postgres` user (PostgreSQL refuses to run as root), on a free loopback port, with
//! their files in a temporary directory removed after the server stops.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A PostgreSQL server of ours, stopped and removed when dropped.
pub struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// `postgres` options for `pg_ctl -o`: port, socket directory, settings.
    options: String,
    // Removed after the server stops: fields drop after `Drop::drop` runs.
    dir: tempfile::TempDir,
}

impl PrivateCluster {
    /// A new, empty cluster with trust authentication, started.
    pub fn init(bin: PathBuf) -> Self {
        let (dir, data) = Self::directory("ovsr-cluster-");
        let init = format!("-D {} -A trust -U postgres --no-sync", path_str(&data));
        assert_ran("initdb", &as_postgres(&bin.join("initdb"), &words(&init)));
        Self::with_data(bin, dir, data, "")
    }

    /// A cluster over `data`, already filled (a base backup, say), with extra server
    /// `settings`; started.
    pub fn with_data(bin: PathBuf, dir: tempfile::TempDir, data: PathBuf, settings: &str) -> Self {
        give_to_postgres(dir.path());
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off {settings}",
            path_str(dir.path()),
        );
        let cluster = Self {
            bin,
            data,
            port,
            options,
            dir,
        };
        cluster.start();
        cluster
    }

    /// A temporary directory the `postgres` user owns, and the data directory path
    /// inside it (not yet created).
    pub fn directory(prefix: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
        give_to_postgres(dir.path());
        let data = dir.path().join("data");
        (dir, data)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for `database` as the `postgres` user.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let log = self.dir.path().join("server.log");
        let start = format!("-D {} -l {} -w -t 60", path_str(&self.data), path_str(&log));
        let mut args = words(&start);
        args.extend(["-o", &self.options, "start"]);
        let started = as_postgres(&self.bin.join("pg_ctl"), &args);
        if !started.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("PostgreSQL did not start: {}\n{log}", describe(&started));
        }
    }

    /// Stops the server, cutting every connection; stopping it twice is harmless.
    pub fn stop(&self) {
        let stop = format!("-D {} -m fast -w stop", path_str(&self.data));
        let stopped = as_postgres(&self.bin.join("pg_ctl"), &words(&stop));
        assert_ran("pg_ctl stop", &stopped);
    }
}

impl PrivateCluster {
    /// Kills the server as a crash would: no checkpoint, connections cut mid-call.
    /// What was committed is in the WAL and survives.
    pub fn crash(&self) {
        let stop = format!("-D {} -m immediate -w stop", path_str(&self.data));
        let stopped = as_postgres(&self.bin.join("pg_ctl"), &words(&stop));
        assert_ran("pg_ctl stop", &stopped);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Immediate: nothing of a throwaway server is worth a clean shutdown. Fails
        // harmlessly when it is already stopped, and never panics: a panic while
        // unwinding would abort the test run.
        let stop = format!("-D {} -m immediate -w stop", path_str(&self.data));
        let _ = postgres_command(&self.bin.join("pg_ctl"))
            .args(words(&stop))
            .output();
    }
}

/// The bin directory of PostgreSQL `major`, under /usr/lib/postgresql.
pub fn bin_dir(major: u32) -> PathBuf {
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
    assert!(
        bin.join("pg_ctl").exists(),
        "no PostgreSQL {major} binaries in {}",
        bin.display()
    );
    bin
}

/// The newest PostgreSQL installed under /usr/lib/postgresql.
pub fn newest_bin_dir() -> PathBuf {
    let majors = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed under /usr/lib/postgresql")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok());
    let major = majors
        .max()
        .expect("a PostgreSQL version under /usr/lib/postgresql");
    bin_dir(major)
}

/// Runs a PostgreSQL binary as the `postgres` user, panicking if it cannot start.
pub fn as_postgres(program: &Path, args: &[&str]) -> Output {
    postgres_command(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()))
}

/// A command running `program` as the `postgres` user (via runuser when we are root).
pub fn postgres_command(program: &Path) -> Command {
    if running_as_root() {
        let mut runuser = Command::new("runuser");
        runuser.args(["-u", "postgres", "--"]).arg(program);
        runuser
    } else {
        Command::new(program)
    }
}

fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .and_then(|line| line.split_whitespace().nth(1))
        == Some("0")
}

pub fn give_to_postgres(dir: &Path) {
    if running_as_root() {
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .output()
            .unwrap();
        assert_ran("chown", &chown);
    }
}

pub fn assert_ran(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        describe(output)
    );
}

pub fn describe(output: &Output) -> String {
    format!(
        "{}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Arguments without spaces in them, written as one line.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}
