//! A console server for the monitor tests: serves a transcript on a loopback
//! TCP port through the same replay code `espmqtt emulate --boot-mode flash
//! --console FILE` uses (`emulator::console::serve_console`), for tests that
//! need a banner or timing the emulator's flags do not expose.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use espmqtt::emulator::console::{serve_console, ConsoleOptions};

/// Serves `transcript` to every connection until dropped.
pub struct ConsoleServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl ConsoleServer {
    pub fn start(transcript: Vec<u8>, opts: ConsoleOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let t = transcript.clone();
                        let o = opts.clone();
                        thread::spawn(move || {
                            let _ = serve_console(&mut s, &t, &o);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        ConsoleServer { addr, stop }
    }

    pub fn url(&self) -> String {
        format!("socket://{}", self.addr)
    }
}

impl Drop for ConsoleServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
