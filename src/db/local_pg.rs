//! A private PostgreSQL cluster for local runs and tests, started from the server binaries installed on this machine.
//!
//! No maintained crate fits: `postgresql_embedded` downloads server builds at run time, which neither these machines
//! nor many ministry networks allow. So this module stays small: `initdb` once, `pg_ctl start` on a free loopback
//! port with password authentication, `pg_ctl stop` on drop. PostgreSQL refuses to run as root; when we are root, the
//! cluster runs as the unprivileged `postgres` system user, which then owns the cluster directory.

use rand::Rng;
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SUPERUSER: &str = "versorgung";

#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb, pg_ctl and postgres on PATH, in `pg_config --bindir` \
         and under /usr/lib/postgresql/*/bin).\n\
         Install them, or point DATABASE_URL at an existing server:\n  \
         Debian/Ubuntu: sudo apt-get install postgresql\n  \
         macOS (Homebrew): brew install postgresql@16\n  \
         Docker: docker compose up -d db   (then DATABASE_URL=postgres://versorgung:versorgung@127.0.0.1:5432/versorgung)"
    )]
    NoBinaries,
    #[error(
        "running as root, but there is no unprivileged `postgres` user to run the cluster as; create one \
             (useradd --system postgres) or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalPgError {
    let context = context.into();
    move |e| LocalPgError::Io(context, e)
}

/// Options of a private cluster.
#[derive(Debug, Clone, Default)]
pub struct LocalPgOptions {
    /// Turn off durability (fsync, synchronous commit): for throwaway test clusters only.
    pub ephemeral: bool,
    /// Serve TLS with this certificate and key (PEM files), for testing encrypted connections.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running private cluster; stopped when dropped if this process started it.
#[derive(Debug)]
pub struct LocalPostgres {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    run_as: Option<nix::unistd::User>,
    port: u16,
    password: String,
    stopped: bool,
    /// Found running (by a service on the same data directory, or left by a crashed process): never stopped by this
    /// value, because a command must not pull the database from under a service it did not start.
    adopted: bool,
}

/// How `pg_ctl stop` ends the server: `Fast` rolls back open transactions and checkpoints; `Immediate` aborts every
/// process at once, like a crash, and the next start replays the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    Fast,
    Immediate,
}

impl LocalPostgres {
    /// Initialises `<dir>/postgres` on first use, starts it (or adopts an instance already running: a service on the
    /// same data directory, or one left by a crashed process) and returns the running cluster. Only a cluster this
    /// call started is stopped when the value is dropped.
    pub fn start(dir: &Path, options: &LocalPgOptions) -> Result<Self, LocalPgError> {
        let bin_dir = find_bin_dir().ok_or(LocalPgError::NoBinaries)?;
        let run_as = if nix::unistd::geteuid().is_root() {
            Some(
                nix::unistd::User::from_name("postgres")
                    .ok()
                    .flatten()
                    .ok_or(LocalPgError::NoUnprivilegedUser)?,
            )
        } else {
            None
        };
        fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let dir = dir.canonicalize().map_err(io(format!("resolving {}", dir.display())))?;
        let pgdata = dir.join("postgres");
        let password = read_or_create_secret(&dir.join("postgres-password"), 24)?;
        let mut pg = Self {
            bin_dir,
            pgdata,
            run_as,
            port: 0,
            password,
            stopped: false,
            adopted: false,
        };
        if !pg.pgdata.join("PG_VERSION").exists() {
            pg.initdb(&dir)?;
        }
        if let Some(port) = pg.running_port() {
            log::info!(
                "adopting PostgreSQL already running on port {port} in {}",
                pg.pgdata.display()
            );
            pg.port = port;
            pg.adopted = true;
        } else {
            pg.port = free_port()?;
            pg.pg_ctl_start(options)?;
        }
        Ok(pg)
    }

    /// Connection URL for the given database.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            // Keep locale settings out of the child's way: initdb is told its locale explicitly.
            cmd.env("HOME", &user.dir);
        }
        cmd.env_remove("PGDATA").env_remove("PGPORT");
        cmd
    }

    fn initdb(&self, dir: &Path) -> Result<(), LocalPgError> {
        log::info!("initialising a private PostgreSQL cluster in {}", self.pgdata.display());
        fs::create_dir_all(&self.pgdata).map_err(io("creating the cluster directory"))?;
        fs::set_permissions(&self.pgdata, fs::Permissions::from_mode(0o700))
            .map_err(io("restricting the cluster directory"))?;
        // initdb reads the password from a file that must be readable by the cluster's user.
        let pwfile = dir.join(".initdb-pwfile");
        write_private(&pwfile, &self.password)?;
        if let Some(user) = &self.run_as {
            // The cluster's user must be able to reach the directory that holds the cluster.
            allow_traverse(dir)?;
            chown(&self.pgdata, user)?;
            chown(&pwfile, user)?;
        }
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(&self.pgdata)
            .args([
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-instructions",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdin(Stdio::null())
            .output();
        let _ = fs::remove_file(&pwfile);
        check_output("initdb", output)
    }

    fn pg_ctl_start(&self, options: &LocalPgOptions) -> Result<(), LocalPgError> {
        let mut server_opts = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200",
            self.port
        );
        if options.ephemeral {
            server_opts.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if let Some((cert, key)) = &options.tls {
            // PostgreSQL wants the key owned by its user and private: copy both into the cluster directory.
            for (from, name) in [(cert, "server.crt"), (key, "server.key")] {
                let to = self.pgdata.join(name);
                fs::copy(from, &to).map_err(io(format!("copying {}", from.display())))?;
                fs::set_permissions(&to, fs::Permissions::from_mode(0o600)).map_err(io("restricting the key"))?;
                if let Some(user) = &self.run_as {
                    chown(&to, user)?;
                }
            }
            server_opts.push_str(" -c ssl=on");
        }
        let log_file = self.pgdata.join("server.log");
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&log_file)
            .args(["-o", &server_opts, "-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output();
        check_output("pg_ctl start", output).map_err(|e| match e {
            LocalPgError::Command { what, detail } => LocalPgError::Command {
                what,
                detail: format!("{detail}\n(see {})", log_file.display()),
            },
            other => other,
        })
    }

    /// The port of a server already running on this cluster directory, if any (read from `postmaster.pid`).
    fn running_port(&self) -> Option<u16> {
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        let pid_file = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    /// Stops the cluster (fast mode: open sessions are ended, committed data is kept).
    pub fn stop(&mut self) {
        self.stop_in(StopMode::Fast);
    }

    /// Stops the cluster in the given mode (fault tests use `Immediate`, a crash without a checkpoint).
    pub fn stop_in(&mut self, mode: StopMode) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let result = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", mode, "-w", "stop"])
            .stdin(Stdio::null())
            .output();
        match check_output("pg_ctl stop", result) {
            Ok(()) => log::info!("stopped the private PostgreSQL cluster"),
            Err(e) => log::warn!("stopping the private PostgreSQL cluster: {e}"),
        }
    }

    /// Starts a stopped cluster again on the same port, so that clients holding its URL reconnect (fault tests).
    pub fn restart(&mut self, options: &LocalPgOptions) -> Result<(), LocalPgError> {
        self.stop();
        self.start_again(options)
    }

    /// Starts the cluster after [`LocalPostgres::stop_in`] (after an immediate stop PostgreSQL recovers from its WAL).
    pub fn start_again(&mut self, options: &LocalPgOptions) -> Result<(), LocalPgError> {
        if !self.stopped {
            return Ok(());
        }
        self.pg_ctl_start(options)?;
        self.stopped = false;
        Ok(())
    }

    /// Leaves the cluster running when this value is dropped (for a test harness that stops it another way).
    pub fn detach(mut self) -> (String, u16) {
        self.stopped = true;
        (self.password.clone(), self.port)
    }

    /// Starts a watchdog process that shuts the cluster down and deletes `remove_dir` once process `pid` has
    /// exited. Test harnesses use this because Rust runs no destructors for statics at exit.
    pub fn stop_when_process_exits(&self, pid: u32, remove_dir: &Path) -> Result<(), LocalPgError> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(
                "while kill -0 \"$1\" 2>/dev/null; do sleep 0.5; done; \
                 pm=$(head -n 1 \"$2/postmaster.pid\" 2>/dev/null); \
                 if [ -n \"$pm\" ]; then kill -QUIT \"$pm\"; while kill -0 \"$pm\" 2>/dev/null; do sleep 0.1; done; fi; \
                 rm -rf \"$3\"",
            )
            .arg("watchdog")
            .arg(pid.to_string())
            .arg(&self.pgdata)
            .arg(remove_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // A new process group, so that Ctrl-C in a terminal does not kill the watchdog before it has cleaned up.
        cmd.process_group(0);
        cmd.spawn().map_err(io("starting the cluster watchdog"))?;
        Ok(())
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        if !self.adopted {
            self.stop();
        }
    }
}

fn check_output(what: &str, output: std::io::Result<std::process::Output>) -> Result<(), LocalPgError> {
    let output = output.map_err(io(format!("running {what}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(LocalPgError::Command {
            what: what.to_owned(),
            detail: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout).trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        })
    }
}

/// The directory with `initdb`, `pg_ctl` and `postgres`: PATH first, then `pg_config --bindir`, then the Debian
/// layout (newest version first).
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|p| dir.join(p).is_file());
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_all(&dir) {
                // Follow symlinks (Debian links initdb into /usr/local/bin) so that sibling binaries are found.
                let real = dir.join("initdb").canonicalize().ok()?;
                let real_dir = real.parent()?.to_path_buf();
                return Some(if has_all(&real_dir) { real_dir } else { dir });
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_all(&dir) {
            return Some(dir);
        }
    }
    let mut candidates: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has_all(d))
        .collect();
    candidates.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}

fn free_port() -> Result<u16, LocalPgError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    let port = listener.local_addr().map_err(io("finding a free port"))?.port();
    Ok(port)
}

fn write_private(path: &Path, content: &str) -> Result<(), LocalPgError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("writing {}", path.display())))?;
    file.write_all(content.as_bytes())
        .map_err(io(format!("writing {}", path.display())))
}

/// Reads a secret file, or creates it (mode 0600) with `bytes` random bytes, hex-encoded.
pub fn read_or_create_secret(path: &Path, bytes: usize) -> Result<String, LocalPgError> {
    if let Ok(existing) = fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    let mut raw = vec![0u8; bytes];
    rand::rng().fill(raw.as_mut_slice());
    let secret = hex::encode(raw);
    write_private(path, &secret)?;
    Ok(secret)
}

fn chown(path: &Path, user: &nix::unistd::User) -> Result<(), LocalPgError> {
    std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .map_err(io(format!("handing {} to the postgres user", path.display())))
}

/// Adds search (x) permission for others on `dir` and its ancestors where missing, so that the unprivileged cluster
/// user can reach its data directory; nothing is made readable.
fn allow_traverse(dir: &Path) -> Result<(), LocalPgError> {
    for ancestor in dir.ancestors() {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            fs::set_permissions(ancestor, fs::Permissions::from_mode(mode | 0o001))
                .map_err(io(format!("allowing the postgres user into {}", ancestor.display())))?;
        }
    }
    Ok(())
}
