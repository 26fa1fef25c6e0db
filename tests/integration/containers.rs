//! ecs-env as a container's entrypoint, proven without a container engine.
//!
//! A container is a root filesystem plus namespaces. Each test builds a root filesystem that
//! holds only what a `FROM scratch` image would (the static ecs-env from `scripts/build-static`,
//! a task definition, and a tiny static app: Debian's `busybox-static`), then starts
//!
//! ```text
//! unshare --pid --fork --mount-proc --kill-child --root=ROOTFS \
//!     /ecs-env -f /etc/ecs/task-definition.json -- APP...
//! ```
//!
//! which is the compose entrypoint pattern (`entrypoint: [ecs-env, -f, FILE, --]` plus
//! `command: [APP...]`) as PID 1 of a fresh PID namespace. The network namespace is the
//! host's, so the shared emulator on 127.0.0.1 is reachable, as a published port would be.
//!
//! Needs root (as CI runs), the musl target and `musl-tools` (for the static build),
//! `busybox-static` and `tini`. A missing piece fails the tests with the reason; nothing is
//! skipped.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::emulator::{emulator, unique};
use crate::util::{empty_dir, task_definition};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The compose entrypoint pattern (examples/compose), with the binary where the Dockerfile's
/// scratch image has it.
const ENTRYPOINT: [&str; 4] = ["/ecs-env", "-f", "/etc/ecs/task-definition.json", "--"];

/// How long a container may take to start its app (ecs-env fetches its secrets first).
const START: Duration = Duration::from_secs(60);

/// "Promptly": a trapped SIGTERM ends the app well within this.
const PROMPTLY: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// What goes into the root filesystem.

/// The static ecs-env, built by `scripts/build-static` once per test run (a quick no-op when it
/// is up to date). If it cannot be built, every container test fails with the script's message.
/// `ECS_ENV_STATIC_BINARY=PATH` tests that binary instead (say, `scripts/build-static --release`
/// output, or one copied out of the Docker image).
fn static_ecs_env() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        if let Some(path) = std::env::var_os("ECS_ENV_STATIC_BINARY") {
            let path = PathBuf::from(path);
            return match elf_interpreter(&path) {
                None => Ok(path),
                Some(interp) => Err(format!(
                    "ECS_ENV_STATIC_BINARY={} asks for the dynamic loader {interp}",
                    path.display()
                )),
            };
        }
        let script = Path::new(MANIFEST_DIR).join("scripts/build-static");
        let out = Command::new(&script)
            .current_dir(MANIFEST_DIR)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            return Err(format!(
                "the container tests need the static binary, and scripts/build-static failed \
                 ({}):\n{tail}",
                out.status
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let path = Path::new(MANIFEST_DIR).join(stdout.lines().last().unwrap_or_default().trim());
        if let Some(interp) = elf_interpreter(&path) {
            return Err(format!(
                "{} asks for the dynamic loader {interp}: not a static binary",
                path.display()
            ));
        }
        Ok(path)
    });
    match built {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// A static program from a Debian package, checked to need no dynamic loader.
fn static_tool(candidates: &[&str], package: &str) -> PathBuf {
    let path = candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "none of {candidates:?} exists: install Debian's `{package}` \
                 (apt-get install {package}; scripts/install-test-tools does it)"
            )
        });
    if let Some(interp) = elf_interpreter(&path) {
        panic!(
            "{} is dynamically linked ({interp}), so it cannot run in an empty root filesystem: \
             install Debian's `{package}`",
            path.display()
        );
    }
    path
}

fn busybox() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| static_tool(&["/bin/busybox", "/usr/bin/busybox"], "busybox-static"))
        .clone()
}

/// What `docker run --init` and Compose `init: true` put in front of the entrypoint
/// (docker-init is tini).
fn tini() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| static_tool(&["/usr/bin/tini-static"], "tini"))
        .clone()
}

/// The dynamic loader an ELF executable asks for (its `PT_INTERP`), if any. A static binary
/// has none. Only 64-bit little-endian ELF, which is all these tests meet.
fn elf_interpreter(path: &Path) -> Option<String> {
    // The headers and the interpreter's name sit at the start of the file.
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut bytes))
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        bytes.len() > 64 && bytes.starts_with(b"\x7fELF") && bytes[4] == 2 && bytes[5] == 1,
        "{} is not a 64-bit little-endian ELF file",
        path.display()
    );
    let u16_at = |o: usize| usize::from(u16::from_le_bytes([bytes[o], bytes[o + 1]]));
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| {
        usize::try_from(u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap())).unwrap()
    };
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .find(|&ph| u32_at(ph) == PT_INTERP)
        .map(|ph| {
            let (offset, size) = (u64_at(ph + 8), u64_at(ph + 32));
            String::from_utf8_lossy(&bytes[offset..offset + size])
                .trim_end_matches('\0')
                .to_owned()
        })
}

// ---------------------------------------------------------------------------------------------
// The root filesystem.

/// A root filesystem with only what the image would hold: `/ecs-env`, the task definition at
/// `/etc/ecs/task-definition.json`, the app (`/bin/busybox`, with `/bin/sh` linking to it), and
/// the empty mount points `/proc` and `/tmp`. No `/lib`, no dynamic loader, no `/etc/ssl`, no
/// `/etc/passwd`, no `/dev`.
struct Rootfs(PathBuf);

impl Rootfs {
    fn new(task_definition: &str) -> Rootfs {
        let root = Rootfs(empty_dir().join("rootfs"));
        for dir in ["bin", "etc/ecs", "proc", "tmp"] {
            fs::create_dir_all(root.path(dir)).unwrap();
        }
        root.add("ecs-env", static_ecs_env());
        root.add("bin/busybox", &busybox());
        std::os::unix::fs::symlink("busybox", root.path("bin/sh")).unwrap();
        root.write("etc/ecs/task-definition.json", task_definition);
        root
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }

    /// Put a host file into the image (a hard link when possible: the binary is large).
    fn add(&self, relative: &str, from: &Path) {
        let to = self.path(relative);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        if fs::hard_link(from, &to).is_err() {
            fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        }
    }

    fn write(&self, relative: &str, contents: &str) {
        let to = self.path(relative);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::write(to, contents).unwrap();
    }

    /// Every entry, relative to the root, sorted; directories end with `/`.
    fn listing(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.strip_prefix(root).unwrap().display().to_string();
                let meta = fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    out.push(format!("{name}/"));
                    walk(&path, root, out);
                } else {
                    out.push(name);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &self.0, &mut out);
        out.sort();
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The container.

/// A running container: `unshare` (on the host) and, under it, the namespace's PID 1.
struct Container {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

struct Exited {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Exited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

fn host_program(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(["/usr/bin".into(), "/bin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` (util-linux) is not installed"))
}

fn assert_root() {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default();
    assert_eq!(
        uid, "0",
        "the container tests need root (a PID namespace and a chroot): run them as root, as CI does"
    );
}

impl Container {
    /// Start `argv` as PID 1 of a new PID namespace with `rootfs` as its root, with the
    /// environment `docker run -e ...` would give it: Docker's default PATH, HOME=/, and the
    /// AWS settings for the emulator. `env` adds or replaces variables.
    fn start(rootfs: &Rootfs, argv: &[&str], env: &[(&str, &str)]) -> Container {
        assert_root();
        let mut cmd = Command::new(host_program("unshare"));
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", "/")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &emulator().endpoint)
            .env("AWS_REGION", "us-east-1");
        for (name, value) in env {
            cmd.env(name, value);
        }
        // --kill-child: if unshare dies (the test panics and drops it), the namespace's init
        // gets SIGKILL, and with it every process in the namespace.
        cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .arg(format!("--root={}", rootfs.0.display()))
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start unshare");
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        Container {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// The ecs-env entrypoint with `command`, as the compose example runs it.
    fn entrypoint(rootfs: &Rootfs, command: &[&str]) -> Container {
        Container::start(rootfs, &[&ENTRYPOINT[..], command].concat(), &[])
    }

    /// Wait for the container to exit, at most `timeout`.
    fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the container to exit (at most START) and collect its output.
    fn finish(mut self) -> Exited {
        let status = self.wait_timeout(START);
        let status = match status {
            Some(status) => status,
            None => {
                let _ = self.child.kill();
                let status = self.child.wait().unwrap();
                panic!(
                    "the container did not exit within {START:?}: {}",
                    self.collect(status)
                );
            }
        };
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Exited {
        Exited {
            status,
            stdout: self.stdout.take().unwrap().join().unwrap(),
            stderr: self.stderr.take().unwrap().join().unwrap(),
        }
    }

    /// `docker stop`'s first step: SIGTERM to host PID `pid`, then the container must exit
    /// within PROMPTLY.
    fn terminate(mut self, pid: u32) -> Exited {
        send("TERM", pid);
        let status = self.wait_timeout(PROMPTLY);
        let run = self.finish();
        assert!(
            status.is_some(),
            "no exit within {PROMPTLY:?} of SIGTERM: {run}"
        );
        run
    }

    /// Wait until the app has created `file` in the root filesystem (its "ready" signal).
    fn wait_for(mut self, rootfs: &Rootfs, file: &str) -> Container {
        let deadline = Instant::now() + START;
        while !rootfs.path(file).exists() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the container exited before /{file} appeared: {}",
                    self.collect(status)
                );
            }
            if Instant::now() >= deadline {
                panic!("/{file} did not appear within {START:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self
    }

    /// The host PID of the namespace's PID 1: the child of `unshare` whose PID in its own
    /// namespace is 1 (the `NSpid:` line of /proc/PID/status).
    fn init_pid(&self) -> u32 {
        let unshare = self.child.id();
        match children(unshare).as_slice() {
            [(pid, 1, _)] => *pid,
            other => panic!("unshare ({unshare}) should have one child, PID 1 inside: {other:?}"),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // Killing unshare kills the namespace (--kill-child); a no-op once it has exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send `signal` (TERM, KILL) to a host PID, with the host shell's `kill`.
fn send(signal: &str, pid: u32) {
    let status = Command::new("sh")
        .args(["-c", "kill -s \"$0\" \"$1\"", signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal} {pid}: {status:?}");
}

/// What the namespace's PID 1 runs, seen from the host.
fn exe(pid: u32) -> PathBuf {
    fs::read_link(format!("/proc/{pid}/exe")).unwrap()
}

/// A task definition with one plain variable and no secret, for the tests about the process.
fn plain_task_definition() -> String {
    task_definition(&[("APP_MODE", "production")], &[])
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_static_binary_needs_no_dynamic_loader() {
    assert_eq!(elf_interpreter(static_ecs_env()), None);
    // The check itself works: the normal (glibc) build does ask for a loader.
    assert!(
        elf_interpreter(Path::new(crate::util::BIN)).is_some(),
        "the normal build of ecs-env is expected to be dynamically linked"
    );
}

#[test]
fn the_app_gets_the_task_definitions_secrets_in_an_empty_root_filesystem() {
    let e = emulator();
    let arn = e.create_secret(
        "us-east-1",
        &unique("container-db"),
        r#"{"username": "app", "password": "pa$$ word"}"#,
    );
    let parameter = format!("/{}/api-key", unique("container"));
    e.put_parameter("us-east-1", &parameter, "ak_0123456789", true);
    let password = format!("{arn}:password::");
    let rootfs = Rootfs::new(&task_definition(
        &[("APP_MODE", "production")],
        &[("DB_PASSWORD", &password), ("API_KEY", &parameter)],
    ));
    // Nothing but the image: no loader, no libraries, no CA certificates (the emulator speaks
    // plain http), no /etc/passwd, no /etc/hosts, no /dev.
    assert_eq!(
        rootfs.listing(),
        [
            "bin/",
            "bin/busybox",
            "bin/sh",
            "ecs-env",
            "etc/",
            "etc/ecs/",
            "etc/ecs/task-definition.json",
            "proc/",
            "tmp/",
        ]
    );

    let run = Container::entrypoint(
        &rootfs,
        &[
            "/bin/sh",
            "-c",
            r#"printf '%s|%s|%s|%s\n' "$APP_MODE" "$DB_PASSWORD" "$API_KEY" "$AWS_REGION""#,
        ],
    )
    .finish();
    assert_eq!(run.status.code(), Some(0), "{run}");
    assert_eq!(
        run.stdout, "production|pa$$ word|ak_0123456789|us-east-1\n",
        "{run}"
    );
}

#[test]
fn the_app_is_pid_1_after_the_exec_and_ecs_env_is_gone() {
    let rootfs = Rootfs::new(&plain_task_definition());
    // `echo` is a shell builtin, so while it runs the shell is the only process: the glob
    // lists every process in the namespace.
    let run = Container::entrypoint(
        &rootfs,
        &[
            "/bin/sh",
            "-c",
            r#"echo "pid=$$ ppid=$PPID mode=$APP_MODE"; echo processes: /proc/[0-9]*; echo "comm=$(cat /proc/1/comm)""#,
        ],
    )
    .finish();
    assert_eq!(run.status.code(), Some(0), "{run}");
    assert_eq!(
        run.stdout, "pid=1 ppid=0 mode=production\nprocesses: /proc/1\ncomm=sh\n",
        "the app must be PID 1 and the only process (ecs-env execs it, it does not stay as its \
         parent): {run}"
    );
}

#[test]
fn sigterm_to_pid_1_reaches_an_app_that_handles_it() {
    let rootfs = Rootfs::new(&plain_task_definition());
    let mut container = Container::entrypoint(
        &rootfs,
        &[
            "/bin/sh",
            "-c",
            r#"trap 'echo "got TERM in $APP_MODE"; exit 43' TERM
               echo > /tmp/ready
               while :; do sleep 0.1; done"#,
        ],
    )
    .wait_for(&rootfs, "tmp/ready");
    let pid = container.init_pid();
    // The signal goes to the app itself: PID 1 is busybox, not ecs-env.
    assert_eq!(exe(pid), rootfs.path("bin/busybox"));

    // What `docker stop` / `docker compose down` / ECS StopTask send first.
    let sent = Instant::now();
    send("TERM", pid);
    let status = container.wait_timeout(PROMPTLY);
    let elapsed = sent.elapsed();
    let run = container.finish();
    assert!(
        status.is_some(),
        "no exit within {PROMPTLY:?} of SIGTERM: {run}"
    );
    assert_eq!(
        run.status.code(),
        Some(43),
        "the app's own exit code: {run}"
    );
    assert_eq!(run.stdout, "got TERM in production\n", "{run}");
    assert!(elapsed < PROMPTLY, "{elapsed:?}");
}

#[test]
fn an_app_without_a_handler_ignores_sigterm_as_pid_1() {
    let rootfs = Rootfs::new(&plain_task_definition());
    let mut container = Container::entrypoint(
        &rootfs,
        &[
            "/bin/sh",
            "-c",
            "echo > /tmp/ready; while :; do sleep 0.1; done; echo unreachable",
        ],
    )
    .wait_for(&rootfs, "tmp/ready");
    let pid = container.init_pid();
    assert_eq!(exe(pid), rootfs.path("bin/busybox"));

    // The kernel drops a signal to a namespace's init that has no handler for it (the PID 1
    // rule), so SIGTERM does nothing: `docker stop` would wait its 10 s and then SIGKILL.
    send("TERM", pid);
    assert_eq!(
        container.wait_timeout(Duration::from_secs(2)),
        None,
        "PID 1 without a SIGTERM handler must ignore SIGTERM"
    );
    assert!(Path::new(&format!("/proc/{pid}")).exists());

    send("KILL", pid);
    let run = container.finish();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    // unshare re-raises its child's death signal on itself; util-linux 2.38 cannot do that for
    // SIGKILL (it tries to unblock it) and exits 1 with "sigprocmask unblock failed" instead.
    let killed = run.status.signal() == Some(9)
        || (run.status.code() == Some(1) && run.stderr.contains("sigprocmask"));
    assert!(killed, "expected death by SIGKILL: {run}");
    assert!(!run.stdout.contains("unreachable"), "{run}");
}

#[test]
fn with_an_init_sigterm_stops_an_app_without_a_handler() {
    // `docker run --init` / Compose `init: true`: docker-init (tini) is PID 1 and runs the
    // entrypoint as its child; it forwards SIGTERM, and the app, no longer PID 1, dies of it.
    let rootfs = Rootfs::new(&plain_task_definition());
    rootfs.add("sbin/docker-init", &tini());
    let argv = [
        &["/sbin/docker-init", "--"][..],
        &ENTRYPOINT[..],
        &[
            "/bin/sh",
            "-c",
            "echo > /tmp/ready; while :; do sleep 0.1; done",
        ][..],
    ]
    .concat();
    let container = Container::start(&rootfs, &argv, &[]).wait_for(&rootfs, "tmp/ready");
    let pid = container.init_pid();
    assert_eq!(exe(pid), rootfs.path("sbin/docker-init"));

    let run = container.terminate(pid);
    // tini exits with 128 + the signal that killed its child.
    assert_eq!(run.status.code(), Some(128 + 15), "{run}");
}

#[test]
fn sigterm_while_ecs_env_is_still_fetching_stops_it_as_pid_1() {
    // An endpoint that accepts connections and never answers: ecs-env is PID 1 and waiting.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (accepted, waiting) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
            let _ = accepted.send(());
        }
    });
    let arn = format!(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf",
        unique("container-hang")
    );
    let rootfs = Rootfs::new(&task_definition(&[], &[("TOKEN", &arn)]));
    let argv = [
        &ENTRYPOINT[..],
        &["/bin/sh", "-c", "echo > /tmp/started"][..],
    ]
    .concat();
    let container = Container::start(&rootfs, &argv, &[("AWS_ENDPOINT_URL", endpoint.as_str())]);
    waiting
        .recv_timeout(START)
        .expect("ecs-env never connected to the endpoint");
    let pid = container.init_pid();
    // Before the exec, PID 1 is ecs-env itself, and it has its own SIGTERM handler.
    assert_eq!(exe(pid), rootfs.path("ecs-env"));

    let run = container.terminate(pid);
    assert_eq!(run.status.code(), Some(128 + 15), "{run}");
    assert!(
        !rootfs.path("tmp/started").exists(),
        "the app must not have started"
    );
}

/// The children of host PID `parent`: (host PID, PID in the namespace, state letter).
fn children(parent: u32) -> Vec<(u32, u32, char)> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        if field("PPid:") == [parent.to_string()] {
            let inner = field("NSpid:").last().and_then(|p| p.parse().ok());
            let state = field("State:").first().and_then(|s| s.chars().next());
            out.push((pid, inner.unwrap_or(0), state.unwrap_or('?')));
        }
    }
    out.sort_by_key(|&(_, inner, _)| inner);
    out
}

#[test]
fn watch_mode_as_pid_1_reaps_orphans_and_forwards_sigterm() {
    let e = emulator();
    let arn = e.create_secret("us-east-1", &unique("container-watch"), "tok");
    let rootfs = Rootfs::new(&task_definition(&[], &[("TOKEN", &arn)]));
    // busybox's shell reopens a background job's stdin on /dev/null; a container engine
    // provides /dev, this bare root filesystem does not.
    rootfs.write("dev/null", "");
    // In watch mode ecs-env stays as PID 1 and supervises the app. The app leaves an orphan:
    // the subshell forks `sleep 1` into the background and exits at once, so the kernel hands
    // the sleep to PID 1. When it ends, only PID 1 can reap it; otherwise it stays a zombie.
    let container = Container::start(
        &rootfs,
        &[
            "/ecs-env",
            "--watch",
            "-f",
            "/etc/ecs/task-definition.json",
            "--",
            "/bin/sh",
            "-c",
            r#"(sleep 1 &)
               trap 'echo "TERM with $TOKEN"; exit 7' TERM
               echo > /tmp/ready
               while :; do sleep 0.1; done"#,
        ],
        &[],
    )
    .wait_for(&rootfs, "tmp/ready");
    let init = container.init_pid();
    assert_eq!(exe(init), rootfs.path("ecs-env"), "ecs-env stays PID 1");

    // The orphan is re-parented to PID 1: a child besides the app (ecs-env's only child of
    // its own, and the first: its namespace PID is the lowest, though not always 2, since
    // ecs-env's threads take PIDs of the namespace too) ...
    let deadline = Instant::now() + PROMPTLY;
    let orphan = loop {
        let kids = children(init);
        assert!(!kids.is_empty(), "the app: {kids:?}");
        if let Some(&(pid, _, _)) = kids.get(1) {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "no orphan was re-parented to PID 1 ({init}): {kids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // ... and reaped when it exits: it disappears, it does not linger as a zombie (`Z`).
    let deadline = Instant::now() + PROMPTLY;
    while fs::metadata(format!("/proc/{orphan}")).is_ok() {
        let kids = children(init);
        assert!(
            Instant::now() < deadline,
            "the orphan {orphan} was not reaped by PID 1: {kids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // `docker stop`: SIGTERM to PID 1 reaches the app through ecs-env.
    let run = container.terminate(init);
    assert_eq!(run.status.code(), Some(7), "the app's exit code: {run}");
    assert_eq!(run.stdout, "TERM with tok\n", "{run}");
}

#[test]
fn a_failing_reference_stops_before_the_app_starts() {
    let missing = format!(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf:password::",
        unique("container-missing")
    );
    let rootfs = Rootfs::new(&task_definition(
        &[("APP_MODE", "production")],
        &[("DB_PASSWORD", &missing)],
    ));
    let run = Container::entrypoint(&rootfs, &["/bin/sh", "-c", "echo > /tmp/started"]).finish();
    assert_eq!(run.status.code(), Some(125), "{run}");
    assert!(
        run.stderr
            .contains("ecs-env: 1 problem; the command was not started"),
        "{run}"
    );
    assert!(run.stderr.contains("DB_PASSWORD"), "{run}");
    assert!(run.stderr.contains("class: asm_not_found"), "{run}");
    assert_eq!(run.stdout, "", "{run}");
    assert!(
        !rootfs.path("tmp/started").exists(),
        "the app must not have started"
    );
}

/// An https endpoint in front of the emulator (tests/support/tls_proxy.py), with a fresh test
/// CA. Stopped when dropped.
struct TlsEndpoint {
    url: String,
    ca: PathBuf,
    child: Child,
    _stdin: ChildStdin,
}

impl TlsEndpoint {
    fn start() -> TlsEndpoint {
        let python = match std::env::var_os("ECS_ENV_MOTO_SERVER") {
            Some(server) => PathBuf::from(server).with_file_name("python"),
            None => Path::new(MANIFEST_DIR).join(".venv/bin/python"),
        };
        let dir = empty_dir();
        let upstream = emulator().endpoint.trim_start_matches("http://").to_owned();
        let mut child = Command::new(python)
            .arg(Path::new(MANIFEST_DIR).join("tests/support/tls_proxy.py"))
            .arg(upstream)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tests/support/tls_proxy.py with the emulator's Python");
        let stdin = child.stdin.take().unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        assert!(url.starts_with("https://"), "tls_proxy.py printed {url:?}");
        TlsEndpoint {
            url: url.trim().to_owned(),
            ca: dir.join("ca.pem"),
            child,
            _stdin: stdin,
        }
    }
}

impl Drop for TlsEndpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tls_needs_one_ca_bundle_file_and_nothing_else() {
    let e = emulator();
    let arn = e.create_secret("us-east-1", &unique("container-tls"), "over-tls");
    let tls = TlsEndpoint::start();
    let td = task_definition(&[], &[("TOKEN", &arn)]);
    let app = ["/bin/sh", "-c", r#"echo "TOKEN=$TOKEN""#];
    let run_with = |rootfs: &Rootfs, env: &[(&str, &str)]| {
        let env = [&[("AWS_ENDPOINT_URL", tls.url.as_str())][..], env].concat();
        Container::start(rootfs, &[&ENTRYPOINT[..], &app[..]].concat(), &env).finish()
    };

    // No CA certificates at all: the https request fails cleanly (no panic), nothing starts.
    let bare = Rootfs::new(&td);
    let run = run_with(&bare, &[]);
    assert_eq!(run.status.code(), Some(125), "{run}");
    assert!(
        run.stderr
            .contains("invalid peer certificate: UnknownIssuer"),
        "{run}"
    );
    assert!(!run.stderr.contains("panicked"), "{run}");

    // The one file to add (Debian's path; the Dockerfile copies it from the build stage).
    let debian = Rootfs::new(&td);
    debian.add("etc/ssl/certs/ca-certificates.crt", &tls.ca);
    let run = run_with(&debian, &[]);
    assert_eq!(run.status.code(), Some(0), "{run}");
    assert_eq!(run.stdout, "TOKEN=over-tls\n", "{run}");

    // Alpine's path is found as well.
    let alpine = Rootfs::new(&td);
    alpine.add("etc/ssl/cert.pem", &tls.ca);
    let run = run_with(&alpine, &[]);
    assert_eq!(run.status.code(), Some(0), "{run}");

    // Anywhere else, named by SSL_CERT_FILE.
    let custom = Rootfs::new(&td);
    custom.add("certs/corporate-ca.pem", &tls.ca);
    let run = run_with(&custom, &[("SSL_CERT_FILE", "/certs/corporate-ca.pem")]);
    assert_eq!(run.status.code(), Some(0), "{run}");
    assert_eq!(run.stdout, "TOKEN=over-tls\n", "{run}");
}
