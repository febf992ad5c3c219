//! A live run's socket: `run.sock` in the plan's state folder (mode 0600, other users refused),
//! through which `expanse attach`, `stop` and `steer` reach a run from any terminal. JSON lines:
//! the client says `{"expanse": 1}`, the run answers with its [`Hello`], then sends every
//! [`Event`] while the client sends [`Command`]s. A client that falls behind is dropped (it can
//! attach again); it never slows the run. No network listener.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, watch};

use super::event::{Command, Event};

/// The protocol's version; a client of another version is told so and refused.
pub const VERSION: u32 = 1;
/// Events a client may fall behind by before it is dropped.
const BACKLOG: usize = 4096;
/// How long a client has to say hello.
const HELLO_WITHIN: Duration = Duration::from_secs(5);

/// The socket of the plan whose state folder is `dir`.
pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join("run.sock")
}

/// The longest socket path the kernel takes is 107 bytes; a folder deeper than that is reached
/// through a descriptor of it instead (`/proc/self/fd/N/run.sock`, the same file).
const SUN_PATH_MAX: usize = 107;

/// The socket of `dir` under a name short enough to bind or connect to, with the open folder
/// that name goes through (held until the bind or connect is done).
fn reachable(dir: &Path) -> std::io::Result<(PathBuf, Option<std::fs::File>)> {
    let path = socket_path(dir);
    if path.as_os_str().len() <= SUN_PATH_MAX {
        return Ok((path, None));
    }
    use std::os::fd::AsRawFd as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    // O_PATH: a folder that may be searched but not listed still serves.
    let folder = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(dir)?;
    let short = PathBuf::from(format!("/proc/self/fd/{}/run.sock", folder.as_raw_fd()));
    Ok((short, Some(folder)))
}

/// Where a live run says who it is (pid, since, clients), for `status`.
pub fn info_path(dir: &Path) -> PathBuf {
    dir.join("live.json")
}

/// What an attached terminal UI shows of the run in its header, as the run's own does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The run's caps.
    #[serde(default)]
    pub budget: super::budget::Limits,
    /// Model prices, when set.
    #[serde(default)]
    pub prices: Option<super::budget::Prices>,
    /// The run's token estimate (low, high), when it asks a model.
    #[serde(default)]
    pub estimate: Option<(u64, u64)>,
    /// The providers, as the header names them.
    #[serde(default)]
    pub providers: String,
    /// The PARTs this run works on (None: every PART of the plan).
    #[serde(default)]
    pub only: Option<std::collections::BTreeSet<u32>>,
    /// What the run said as it started (the corpus and what it skipped, the providers,
    /// warnings), shown by a client as the run's own terminal showed it.
    #[serde(default)]
    pub startup: Vec<String>,
}

/// What a live run says of itself: on connecting, and in `live.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version.
    pub expanse: u32,
    /// The run's process.
    pub pid: u32,
    /// The plan, as an absolute path.
    pub plan: PathBuf,
    /// When the run started (RFC 3339).
    pub since: String,
    /// Clients attached now.
    pub clients: usize,
    /// What its header shows.
    #[serde(default)]
    pub facts: Facts,
}

/// A run's socket while it serves; dropping it removes the socket and `live.json`.
pub struct Live {
    dir: PathBuf,
    /// Cancelled as the run ends: every client's connection closes at once.
    ended: tokio_util::sync::CancellationToken,
    /// Held while `live.json` is written or removed, so a client leaving as the run ends cannot
    /// write it back after the run removed it.
    info: Arc<std::sync::Mutex<()>>,
    /// Each event as its JSON line, made once for every client.
    events: broadcast::Sender<Arc<str>>,
    clients: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl Live {
    /// Serve the run whose commands go to `commands` on the socket in `dir`, saying `facts` of
    /// itself (the caller holds the plan's run lock, so a socket already there is a crashed
    /// run's and is replaced).
    pub fn serve(
        dir: &Path,
        plan: &Path,
        commands: mpsc::Sender<Command>,
        facts: Facts,
    ) -> std::io::Result<Live> {
        let path = socket_path(dir);
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("removed a stale socket {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = {
            let (name, _folder) = reachable(dir)?;
            UnixListener::bind(&name)?
        };
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        let (events, _) = broadcast::channel(BACKLOG);
        let hello = Hello {
            expanse: VERSION,
            pid: std::process::id(),
            plan: plan.to_path_buf(),
            since: crate::state::now(),
            clients: 0,
            facts,
        };
        let (count, watching) = watch::channel(0);
        write_info(dir, &hello);
        let ended = tokio_util::sync::CancellationToken::new();
        let info = Arc::new(std::sync::Mutex::new(()));
        let shared = Shared {
            dir: dir.to_path_buf(),
            hello,
            ended: ended.clone(),
            info: info.clone(),
            count: Arc::new(count),
            events: events.clone(),
            commands,
        };
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of file descriptors, say: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move { shared.client(stream).await });
            }
        });
        Ok(Live {
            dir: dir.to_path_buf(),
            ended,
            info,
            events,
            clients: watching,
            task,
        })
    }

    /// How many clients are attached, changing as they come and go (the run stays while one is
    /// there, so a person can review what it wrote).
    pub fn clients(&self) -> watch::Receiver<usize> {
        self.clients.clone()
    }

    /// Pass an event to every attached client (none attached: nothing happens).
    pub fn publish(&self, event: &Event) {
        if self.events.receiver_count() == 0 {
            return;
        }
        if let Ok(line) = serde_json::to_string(event) {
            let _ = self.events.send(Arc::from(line + "\n"));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
        let _held = self.info.lock();
        self.ended.cancel();
        let _ = std::fs::remove_file(socket_path(&self.dir));
        let _ = std::fs::remove_file(info_path(&self.dir));
    }
}

#[derive(Clone)]
struct Shared {
    dir: PathBuf,
    hello: Hello,
    ended: tokio_util::sync::CancellationToken,
    info: Arc<std::sync::Mutex<()>>,
    /// Clients attached now, as the run watches it.
    count: Arc<watch::Sender<usize>>,
    events: broadcast::Sender<Arc<str>>,
    commands: mpsc::Sender<Command>,
}

/// The first line a client sends.
#[derive(Deserialize)]
struct ClientHello {
    expanse: u32,
}

impl Shared {
    async fn client(self, stream: UnixStream) {
        // The socket's mode already keeps others out; a peer of another user is refused anyway.
        let own = own_uid();
        if let Ok(cred) = stream.peer_cred()
            && Some(cred.uid()) != own
        {
            return;
        }
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let first = tokio::time::timeout(HELLO_WITHIN, lines.next_line()).await;
        let Ok(Ok(Some(first))) = first else {
            return;
        };
        match serde_json::from_str::<ClientHello>(&first) {
            Ok(h) if h.expanse == VERSION => {}
            _ => {
                let why = serde_json::json!({"error": format!("this run speaks expanse protocol {VERSION}; say {{\"expanse\": {VERSION}}} first")});
                let _ = write.write_all(format!("{why}\n").as_bytes()).await;
                return;
            }
        }
        let mut rx = self.events.subscribe();
        let now = self.count_clients(1);
        let hello = Hello {
            clients: now,
            ..self.hello.clone()
        };
        self.say(&hello);
        let greeting = serde_json::to_string(&hello).unwrap_or_default() + "\n";
        if write.write_all(greeting.as_bytes()).await.is_ok() {
            let commands = self.commands.clone();
            let reader = async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    match serde_json::from_str::<Command>(&line) {
                        Ok(c) => {
                            if commands.send(c).await.is_err() {
                                break;
                            }
                        }
                        Err(e) => tracing::warn!("a client sent what is not a command: {e}"),
                    }
                }
            };
            let writer = async move {
                let mut write = tokio::io::BufWriter::new(write);
                loop {
                    match rx.recv().await {
                        Ok(line) => {
                            // What else is waiting goes in the same write: a flood costs a few
                            // syscalls, not one an event.
                            let mut ok = write.write_all(line.as_bytes()).await.is_ok();
                            while ok && let Ok(more) = rx.try_recv() {
                                ok = write.write_all(more.as_bytes()).await.is_ok();
                            }
                            if !ok || write.flush().await.is_err() {
                                break;
                            }
                        }
                        // Behind by more than the backlog: dropped; it may attach again.
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            let _ = write
                                .write_all(b"{\"error\":\"this client fell behind the run and was dropped; attach again\"}\n")
                                .await;
                            let _ = write.flush().await;
                            break;
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            };
            tokio::select! {
                () = reader => {}
                () = writer => {}
                () = self.ended.cancelled() => {}
            }
        }
        let now = self.count_clients(-1);
        self.say(&Hello {
            clients: now,
            ..self.hello.clone()
        });
    }

    /// One client more (1) or fewer (-1): how many are attached now, as the run is told.
    fn count_clients(&self, change: isize) -> usize {
        let mut now = 0;
        self.count.send_modify(|n| {
            *n = n.saturating_add_signed(change);
            now = *n;
        });
        now
    }

    /// Write `live.json` anew, unless the run has ended (and removed it).
    fn say(&self, hello: &Hello) {
        let _held = self.info.lock();
        if !self.ended.is_cancelled() {
            write_info(&self.dir, hello);
        }
    }
}

/// How long a served run waits for the terminal that started it; one that never comes (Ctrl-C
/// while the run was starting) leaves nothing running.
pub const FIRST_CLIENT_WITHIN: Duration = Duration::from_secs(30);

/// Wait for a served run's first client (the terminal that started it): true when it came,
/// false when none came within [`FIRST_CLIENT_WITHIN`].
pub async fn first_client(mut clients: watch::Receiver<usize>) -> bool {
    let came = clients.wait_for(|n| *n > 0);
    match tokio::time::timeout(FIRST_CLIENT_WITHIN, came).await {
        Ok(Ok(_)) => true,
        _ => {
            tracing::warn!(
                "no terminal attached to the served run within {} s",
                FIRST_CLIENT_WITHIN.as_secs()
            );
            false
        }
    }
}

/// A live run's lifetime: it stays while a client is attached (a person may be reviewing) and
/// ends once every PART has settled with nobody attached. Each change of `clients` is told to
/// the run (`commands`) in order, by a task of its own so no word is lost; the task ends with
/// the socket or the run.
pub fn follow_clients(
    mut clients: watch::Receiver<usize>,
    commands: mpsc::Sender<Command>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while clients.changed().await.is_ok() {
            let command = if *clients.borrow_and_update() > 0 {
                Command::StayWhenSettled
            } else {
                Command::EndWhenSettled
            };
            if commands.send(command).await.is_err() {
                break;
            }
        }
    })
}

/// This process's user id.
fn own_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;
    // The uid that owns a file this process just made: no libc call needed.
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn write_info(dir: &Path, hello: &Hello) {
    if let Ok(text) = serde_json::to_string(hello) {
        let _ = crate::fsutil::write_atomic(&info_path(dir), text.as_bytes());
    }
}

/// Where a run served through its socket leaves its summary as it ends, for the terminal that
/// started it (which is only a client, and reads it once the socket closes).
fn summary_path(dir: &Path) -> PathBuf {
    dir.join("last-run.json")
}

/// A run's last word, with the process that said it.
#[derive(Serialize, Deserialize)]
struct LastRun {
    pid: u32,
    summary: super::Summary,
}

/// Keep this run's summary for the client that started it.
pub fn save_summary(dir: &Path, summary: &super::Summary) {
    let last = LastRun {
        pid: std::process::id(),
        summary: summary.clone(),
    };
    if let Ok(text) = serde_json::to_string(&last) {
        let _ = crate::fsutil::write_atomic(&summary_path(dir), text.as_bytes());
    }
}

/// The summary the run of process `pid` left as it ended (None: it ended without one, killed,
/// say).
pub fn ended_summary(dir: &Path, pid: u32) -> Option<super::Summary> {
    let text = std::fs::read_to_string(summary_path(dir)).ok()?;
    let last: LastRun = serde_json::from_str(&text).ok()?;
    (last.pid == pid).then_some(last.summary)
}

/// What `live.json` says of the run of the plan whose state folder is `dir` (None: none).
pub fn info(dir: &Path) -> Option<Hello> {
    let text = std::fs::read_to_string(info_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// A client's connection: the run's hello, its events, and where commands go.
pub struct Client {
    /// What the run said of itself.
    pub hello: Hello,
    /// Every event from now on; closed when the run ends or drops the client. Unbounded, so a
    /// screen busy for a while (an editor open on a draft) never makes the run drop it.
    pub events: mpsc::UnboundedReceiver<Event>,
    /// Why the run dropped this client, once it has (it fell behind, or was paused with
    /// Ctrl-Z): the run goes on, and the closed events do not mean it ended.
    pub dropped: Arc<std::sync::OnceLock<String>>,
    /// Commands to the run.
    pub commands: mpsc::Sender<Command>,
    /// Writes the commands to the socket.
    writer: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Send `command` and wait until it is on the socket (for one-shot clients such as `steer`
    /// and `stop`, which end right after).
    pub async fn send_and_close(self, command: Command) -> bool {
        let sent = self.commands.send(command).await.is_ok();
        drop(self.commands);
        sent && self.writer.await.is_ok()
    }
}

/// Why a client could not attach.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// No socket, or nothing listening on it.
    #[error("no run is listening on {0}")]
    NotLive(PathBuf),
    /// The run refused the client or said nothing.
    #[error("the run on {path} did not answer as expanse {VERSION} does: {what}")]
    Protocol {
        /// The socket.
        path: PathBuf,
        /// What it said, or what went wrong.
        what: String,
    },
}

/// Attach to the live run whose state folder is `dir`.
pub async fn connect(dir: &Path) -> Result<Client, AttachError> {
    let path = socket_path(dir);
    let (name, _folder) = reachable(dir).map_err(|_| AttachError::NotLive(path.clone()))?;
    let stream = UnixStream::connect(&name)
        .await
        .map_err(|_| AttachError::NotLive(path.clone()))?;
    let (read, mut write) = stream.into_split();
    let protocol = |what: String| AttachError::Protocol {
        path: path.clone(),
        what,
    };
    write
        .write_all(format!("{{\"expanse\": {VERSION}}}\n").as_bytes())
        .await
        .map_err(|e| protocol(e.to_string()))?;
    let mut lines = BufReader::new(read).lines();
    let first = tokio::time::timeout(HELLO_WITHIN, lines.next_line())
        .await
        .map_err(|_| protocol("no answer".into()))?
        .map_err(|e| protocol(e.to_string()))?
        .ok_or_else(|| protocol("it closed the connection".into()))?;
    let hello: Hello = serde_json::from_str(&first).map_err(|_| protocol(first.clone()))?;
    let (ev_tx, events) = mpsc::unbounded_channel();
    let dropped = Arc::new(std::sync::OnceLock::new());
    let why = dropped.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            match serde_json::from_str::<Event>(&line) {
                Ok(e) => {
                    if ev_tx.send(e).is_err() {
                        break;
                    }
                }
                Err(_) => {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                        && let Some(e) = v.get("error").and_then(|e| e.as_str())
                    {
                        let _ = why.set(e.to_string());
                    }
                }
            }
        }
    });
    let (commands, mut cmd_rx) = mpsc::channel::<Command>(64);
    let writer = tokio::spawn(async move {
        while let Some(c) = cmd_rx.recv().await {
            let Ok(line) = serde_json::to_string(&c) else {
                continue;
            };
            if write
                .write_all(format!("{line}\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    Ok(Client {
        hello,
        events,
        dropped,
        commands,
        writer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Level, Target};

    #[test]
    fn commands_read_as_json_lines_and_plan_updates_never_travel() {
        let c: Command = serde_json::from_str(r#"{"pause": {"part": 3}}"#).unwrap();
        assert_eq!(c, Command::Pause(Target::Part(3)));
        assert_eq!(
            serde_json::from_str::<Command>(r#""shutdown""#).unwrap(),
            Command::Shutdown
        );
        let note = Command::Note {
            part: 2,
            text: "x".into(),
        };
        let line = serde_json::to_string(&note).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&line).unwrap(), note);
        assert!(serde_json::from_str::<Command>(r#"{"update_plan": {}}"#).is_err());
    }

    #[tokio::test]
    async fn two_clients_see_one_event_and_a_command_reaches_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let facts = Facts {
            providers: "local · local · extractive".into(),
            estimate: Some((10, 20)),
            startup: vec!["corpus demo: 40 documents".into()],
            ..Facts::default()
        };
        let live = Live::serve(dir.path(), Path::new("/p.md"), tx, facts).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(socket_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut a = connect(dir.path()).await.unwrap();
        // A client's header shows what the run's own does.
        assert_eq!(a.hello.facts.providers, "local · local · extractive");
        assert_eq!(a.hello.facts.estimate, Some((10, 20)));
        assert_eq!(a.hello.facts.startup, ["corpus demo: 40 documents"]);
        let mut count = live.clients();
        assert_eq!(*count.borrow_and_update(), 1);
        let mut b = connect(dir.path()).await.unwrap();
        assert_eq!(b.hello.clients, 2);
        assert_eq!(info(dir.path()).unwrap().clients, 2);
        live.publish(&Event::log(Some(1), Level::Info, "hello both"));
        assert_eq!(a.events.recv().await.unwrap().message, "hello both");
        assert_eq!(b.events.recv().await.unwrap().message, "hello both");
        assert_eq!(
            *count.borrow_and_update(),
            2,
            "the run sees who is attached"
        );
        a.commands.send(Command::Undo(4)).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), Command::Undo(4));
        drop(b);
        count.changed().await.unwrap();
        assert_eq!(*count.borrow(), 1, "and who left");
        drop(live);
        // Clients see the run end as it ends, not when its process does.
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while a.events.recv().await.is_some() {}
        })
        .await;
        assert!(ended.is_ok(), "the client's events end with the run");
        assert!(!socket_path(dir.path()).exists());
        assert!(info(dir.path()).is_none());
    }

    // A paused clock: waiting for the follower to fall quiet costs no time.
    #[tokio::test(start_paused = true)]
    async fn a_run_stays_while_a_client_is_attached_and_ends_settled_when_the_last_leaves() {
        let (count, clients) = watch::channel(0usize);
        let (tx, mut rx) = mpsc::channel(1);
        // The run's queue is full when clients come and go.
        tx.send(Command::Shutdown).await.unwrap();
        let follower = follow_clients(clients, tx);
        count.send_replace(1);
        tokio::task::yield_now().await;
        count.send_replace(0);
        count.send_replace(2);
        assert_eq!(rx.recv().await, Some(Command::Shutdown));
        // The follower waited for room rather than drop a word; what it says last is the
        // clients as they are now (two), whatever came between.
        let mut said = Vec::new();
        while let Ok(Some(c)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), rx.recv()).await
        {
            said.push(c);
        }
        assert_eq!(said.last(), Some(&Command::StayWhenSettled), "{said:?}");
        count.send_replace(0);
        assert_eq!(rx.recv().await, Some(Command::EndWhenSettled));
        count.send_replace(2);
        assert_eq!(rx.recv().await, Some(Command::StayWhenSettled));
        count.send_replace(0);
        assert_eq!(rx.recv().await, Some(Command::EndWhenSettled));
        // The socket gone: the follower ends.
        drop(count);
        follower.await.unwrap();
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_served_run_waits_for_its_terminal_but_not_for_ever() {
        let (count, clients) = watch::channel(0usize);
        let waiting = tokio::spawn(first_client(clients.clone()));
        count.send_replace(1);
        assert!(waiting.await.unwrap(), "the terminal came");
        // Nobody comes: after FIRST_CLIENT_WITHIN (the paused clock jumps) the run is not started.
        let (_count, clients) = watch::channel(0usize);
        let start = tokio::time::Instant::now();
        assert!(!first_client(clients).await);
        assert!(start.elapsed() >= FIRST_CLIENT_WITHIN);
    }

    #[tokio::test]
    async fn a_run_deep_in_the_file_system_is_served_and_reached() {
        let top = tempfile::tempdir().unwrap();
        let deep = top
            .path()
            .join("a-folder-name-of-forty-characters-long-x".repeat(3));
        std::fs::create_dir_all(&deep).unwrap();
        assert!(socket_path(&deep).as_os_str().len() > SUN_PATH_MAX);
        let (tx, mut rx) = mpsc::channel(8);
        let _live = Live::serve(&deep, Path::new("/p.md"), tx, Facts::default()).unwrap();
        assert!(
            socket_path(&deep).exists(),
            "the socket is where clients look"
        );
        let c = connect(&deep).await.unwrap();
        c.commands.send(Command::Undo(2)).await.unwrap();
        assert_eq!(rx.recv().await, Some(Command::Undo(2)));
    }

    #[tokio::test]
    async fn a_client_the_run_dropped_knows_it_was_dropped_not_that_the_run_ended() {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(socket_path(dir.path())).unwrap();
        let hello = Hello {
            expanse: VERSION,
            pid: 7,
            plan: "/p.md".into(),
            since: "now".into(),
            clients: 1,
            facts: Facts::default(),
        };
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let _ = BufReader::new(read).lines().next_line().await;
            let line = serde_json::to_string(&hello).unwrap() + "\n";
            write.write_all(line.as_bytes()).await.unwrap();
            write
                .write_all(b"{\"error\":\"this client fell behind the run and was dropped; attach again\"}\n")
                .await
                .unwrap();
        });
        let mut c = connect(dir.path()).await.unwrap();
        assert_eq!(c.hello.pid, 7);
        assert!(c.events.recv().await.is_none(), "the connection closed");
        assert_eq!(
            c.dropped.get().map(String::as_str),
            Some("this client fell behind the run and was dropped; attach again")
        );
    }
}
