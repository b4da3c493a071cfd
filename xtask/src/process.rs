//! Running external programs with a deadline.
//!
//! A conformance run drives virsh, qemu-img and the converter hundreds of times;
//! one hung call (a QEMU that never answers the monitor, a start waiting on a
//! missing swtpm) must cost a bounded amount of time, not the whole run.

use std::io::{self, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished (or abandoned) command left behind.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when the deadline passed and the child was killed.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// A one-line reason for a failure, for the report table.
    pub fn failure_reason(&self) -> String {
        match self.status {
            None => "timed out".to_owned(),
            Some(status) => {
                let text = first_meaningful_line(&self.stderr)
                    .or_else(|| first_meaningful_line(&self.stdout))
                    .unwrap_or_default();
                if text.is_empty() {
                    format!("exit status {status}")
                } else {
                    text
                }
            }
        }
    }
}

/// virsh reports "error: Failed to start domain 'x'" and then the cause on
/// the next `error:` line; both are needed, joined on one line.
fn first_meaningful_line(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .take(3)
        .collect();
    (!lines.is_empty()).then(|| lines.join(": "))
}

/// Runs `cmd` to completion or until `timeout`, whichever comes first.
/// stdin is closed; stdout and stderr are captured (read on their own threads so
/// a chatty child cannot block on a full pipe while we wait for it).
pub fn run(cmd: &mut Command, timeout: Duration) -> io::Result<Outcome> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // kill() fails only if it already exited; wait() reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    Ok(Outcome { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() })
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_command_is_killed_at_the_deadline() {
        let started = Instant::now();
        let out = run(Command::new("sleep").arg("30"), Duration::from_millis(200)).unwrap();
        assert!(out.status.is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn output_and_status_are_captured() {
        let out =
            run(Command::new("sh").args(["-c", "echo out; echo 'error: bad' >&2; exit 3"]), Duration::from_secs(10))
                .unwrap();
        assert!(!out.success());
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.failure_reason(), "bad");
        let two = run(
            Command::new("sh")
                .args(["-c", "echo 'error: Failed to start' >&2; echo 'error: no such file' >&2; exit 1"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(two.failure_reason(), "Failed to start: no such file");
    }
}
