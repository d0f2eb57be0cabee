//! Running real nginx and HAProxy on loopback: free ports, configs and
//! pid/log files in a temporary directory, processes stopped on drop, and a
//! small HTTP/1.1 client that binds its socket to a chosen 127.0.0.0/8
//! source address before connecting. Every socket has a timeout.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Timeout on every socket operation and on waiting for a product to listen.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The product's binary, or `None` after printing why the test is skipped.
/// Under CI (`CI` set) a missing binary fails the test instead: CI installs
/// both products (`.ci/run`).
pub(crate) fn product(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/sbin".into()])
        .map(|d: PathBuf| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("{name} is not installed, and CI must run the differential tests against it (.ci/run installs it)");
        }
        eprintln!("notice: {name} not found on PATH or in /usr/sbin; skipping the tests against real {name} (apt-get install {name})");
    }
    found
}

/// The version line a product prints.
pub(crate) fn version(bin: &Path, flag: &str) -> String {
    let out = Command::new(bin).arg(flag).output().expect("run product");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.lines().next().unwrap_or("").trim().to_string()
}

/// `n` distinct free TCP ports on 127.0.0.1, taken from below the kernel's
/// ephemeral range. A port is free when we could bind it, but it is
/// released before the product binds it; from the ephemeral range (what
/// `bind(…:0)` hands out) it could meanwhile become the source port of
/// another test's outgoing connection — seen once, with slurmd, whose
/// daemons take seconds to start. Below that range no connection takes it,
/// and a process-wide cursor keeps two tests of this binary from choosing
/// the same port.
pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CURSOR: AtomicU32 = AtomicU32::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768)
        .clamp(12_000, 65_000);
    // A start that differs between processes, so two test runs at once
    // rarely meet; the bind check below settles it when they do.
    let base = 10_000u32;
    let span = low - base;
    let start = std::process::id() % span;
    let mut out = Vec::with_capacity(n);
    for _ in 0..span {
        if out.len() == n {
            break;
        }
        let port = (base + (start + CURSOR.fetch_add(1, Ordering::Relaxed)) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            out.push(port);
        }
    }
    assert_eq!(out.len(), n, "no {n} free ports below {low} on 127.0.0.1");
    out
}

/// A running product; killed (and reaped) on drop.
pub(crate) struct Running {
    child: Child,
    /// The temporary directory holding its config, pid file and logs
    /// (removed on drop).
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Running {
    /// The product's error log so far (for failure messages).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    /// Kills the product's whole process group: nginx's workers outlive a
    /// master killed alone (they were found still running after the tests).
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// SIGKILL to the process group `child` leads (started with
/// `process_group(0)`), then reaps `child`.
pub(crate) fn kill_group(child: &mut Child) {
    // SAFETY: signals the process group of our own child, which leads it.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until something accepts connections on `port` or the product
/// exits; panics with its log after [`IO_TIMEOUT`].
fn wait_listening(r: &mut Running, port: u16) {
    let deadline = Instant::now() + IO_TIMEOUT;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = r.child.try_wait() {
            panic!(
                "product exited ({status}) before listening on {port}:\n{}",
                r.log()
            );
        }
        if Instant::now() > deadline {
            panic!(
                "nothing listens on {port} after {IO_TIMEOUT:?}:\n{}",
                r.log()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Checks an nginx configuration with `nginx -t`: `Ok` or the error output.
pub(crate) fn nginx_test(bin: &Path, conf: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let out = Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(&path)
        .arg("-t")
        .output()
        .expect("run nginx -t");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

/// The `http {}` preamble nginx needs to run from a temporary directory.
pub(crate) fn nginx_main(dir: &Path, http_body: &str) -> String {
    let d = dir.display();
    format!(
        "worker_processes 1;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  keepalive_requests 1000000;\n\
         client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         {http_body}\n}}\n"
    )
}

/// Starts nginx on `conf` (built by [`nginx_main`] with `dir`), waiting for `port`.
pub(crate) fn start_nginx(bin: &Path, dir: tempfile::TempDir, conf: &str, port: u16) -> Running {
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let log = dir.path().join("error.log");
    let child = Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(&log)
        .arg("-c")
        .arg(&path)
        .arg("-g")
        .arg("daemon off;")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let mut r = Running {
        child,
        _dir: dir,
        log,
    };
    wait_listening(&mut r, port);
    r
}

/// Starts HAProxy on `cfg` in the foreground (`-db`), waiting for `port`.
pub(crate) fn start_haproxy(bin: &Path, dir: tempfile::TempDir, cfg: &str, port: u16) -> Running {
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let log = dir.path().join("haproxy.log");
    let child = Command::new(bin)
        .arg("-f")
        .arg(&path)
        .arg("-db")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start haproxy");
    let mut r = Running {
        child,
        _dir: dir,
        log,
    };
    wait_listening(&mut r, port);
    r
}

/// Sends one command to HAProxy's admin socket and returns its answer.
pub(crate) fn haproxy_admin(sock: &Path, cmd: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(sock).expect("admin socket");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// One HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 connection from a chosen source address.
pub(crate) struct Client {
    src: Ipv4Addr,
    port: u16,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    /// A client that connects from `src` (any address in 127.0.0.0/8) to
    /// 127.0.0.1:`port`.
    pub(crate) fn new(src: Ipv4Addr, port: u16) -> Client {
        Client {
            src,
            port,
            conn: None,
        }
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        s.bind(&SockAddr::from(SocketAddrV4::new(self.src, 0)))?;
        let dst = SocketAddr::from(([127, 0, 0, 1], self.port));
        s.connect_timeout(&SockAddr::from(dst), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        Ok(s.into())
    }

    /// `GET path` with `headers`; reconnects once if the server had closed
    /// the kept-alive connection.
    pub(crate) fn get(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Some(BufReader::new(self.connect()?));
            }
            let c = self.conn.as_mut().unwrap();
            let r = c
                .get_mut()
                .write_all(req.as_bytes())
                .and_then(|_| read_response(c));
            match r {
                Ok((resp, close)) => {
                    if close {
                        self.conn = None;
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    self.conn = None;
                    if attempt == 1 {
                        return Err(e);
                    }
                }
            }
        }
        unreachable!()
    }
}

fn read_response(c: &mut BufReader<TcpStream>) -> std::io::Result<(Response, bool)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut line = String::new();
    if c.read_line(&mut line)? == 0 {
        return Err(bad("connection closed"));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        c.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let close = find("connection").is_some_and(|v| v == "close");
    let body = if let Some(len) = find("content-length") {
        let n: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        let mut b = vec![0; n];
        c.read_exact(&mut b)?;
        b
    } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut b = Vec::new();
        loop {
            line.clear();
            c.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("bad chunk"))?;
            let mut chunk = vec![0; n + 2];
            c.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            b.extend_from_slice(&chunk[..n]);
        }
        b
    } else {
        let mut b = Vec::new();
        c.read_to_end(&mut b)?;
        return Ok((
            Response {
                status,
                headers,
                body: String::from_utf8_lossy(&b).to_string(),
            },
            true,
        ));
    };
    Ok((
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        },
        close,
    ))
}
