//! A TCP proxy in front of PostgreSQL that the tests can cut, to stage a
//! database outage without touching the shared server.

use std::io::ErrorKind;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, stop) = (
            Arc::new(AtomicBool::new(true)),
            Arc::new(AtomicBool::new(false)),
        );
        let live = Arc::new(Mutex::new(Vec::new()));
        let (up_flag, stop_flag, connections) = (up.clone(), stop.clone(), live.clone());
        std::thread::spawn(move || {
            while !stop_flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    // Under the lock, so that a connection is either
                    // registered before a cut (and cut with the rest) or
                    // refused after it.
                    Ok((client, _)) if up_flag.load(Ordering::SeqCst) => {
                        let mut list = connections.lock().unwrap();
                        if !up_flag.load(Ordering::SeqCst) {
                            continue;
                        }
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(&target) else {
                            continue;
                        };
                        list.push(client.try_clone().unwrap());
                        list.push(server.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                        pipe(server, client);
                    }
                    // While down, connections are accepted and closed at once.
                    Ok((client, _)) => drop(client),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => panic!("proxy: {e}"),
                }
            }
        });
        Proxy {
            port,
            up,
            stop,
            live,
        }
    }

    /// Cuts every connection and refuses new ones until `resume`.
    pub fn cut(&self) {
        let mut live = self.live.lock().unwrap();
        self.up.store(false, Ordering::SeqCst);
        for stream in live.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    pub fn resume(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cut();
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
    });
}
