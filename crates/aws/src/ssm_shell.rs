//! Shell commands on an instance through SSM Run Command
//! (`AWS-RunShellScript`): send, then poll the invocation until it ends.
//! Output is what SSM keeps: the first 24,000 characters of stdout.

use std::time::{Duration, Instant};

use aws_sdk_ssm::types::CommandInvocationStatus;
use snaplab_cloud::{ApiCall, ApiObserver};

use crate::account::Account;
use crate::error::AwsError;

/// Runs shell commands on one instance.
#[derive(Clone)]
pub struct Shell {
    pub(crate) account: Account,
    /// Built once: every command and poll goes through it.
    ssm: aws_sdk_ssm::Client,
    pub instance_id: String,
    /// Between GetCommandInvocation polls.
    pub poll: Duration,
    /// Hears each command run, as one API call (`None`: nobody, e.g. the log poller).
    observer: Option<ApiObserver>,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

impl Shell {
    pub fn new(account: &Account, instance_id: &str, poll: Duration, observer: Option<ApiObserver>) -> Self {
        Self {
            account: account.clone(),
            ssm: account.ssm(),
            instance_id: instance_id.to_string(),
            poll,
            observer,
        }
    }

    /// The same shell, telling nobody of its commands (frequent polls).
    pub fn quiet(&self) -> Self {
        Self {
            observer: None,
            ..self.clone()
        }
    }

    /// Tells the observer about one command: `SendCommand (what)`, how long
    /// it took to its end, and how it ended when that was not a success.
    fn report(&self, what: &str, command_id: Option<&str>, started: Instant, error: Option<String>) {
        if let Some(observer) = &self.observer {
            observer(ApiCall {
                step_id: None,
                operation: format!("SendCommand ({what})"),
                request_id: command_id.map(String::from),
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                error,
            });
        }
    }

    /// Sends `script` (run by `sh`); returns the command id at once.
    pub async fn start(&self, script: &str, timeout: Duration, comment: &str) -> Result<String, AwsError> {
        let out = self
            .ssm
            .send_command()
            .instance_ids(&self.instance_id)
            .document_name("AWS-RunShellScript")
            .comment(comment)
            .parameters("commands", vec![script.to_string()])
            .parameters("executionTimeout", vec![timeout.as_secs().max(1).to_string()])
            .send()
            .await
            .map_err(|e| self.account.classify("ssm:SendCommand", e))?;
        out.command()
            .and_then(|c| c.command_id())
            .map(String::from)
            .ok_or_else(|| AwsError::Other {
                action: "ssm:SendCommand".into(),
                detail: "no command id came back".into(),
            })
    }

    /// The invocation's state now (`None`: still running).
    pub async fn poll_once(&self, command_id: &str) -> Result<Option<Ended>, AwsError> {
        let out = match self
            .ssm
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(&self.instance_id)
            .send()
            .await
        {
            Ok(out) => out,
            // Right after SendCommand the invocation may not exist yet.
            Err(e) => {
                let e = self.account.classify("ssm:GetCommandInvocation", e);
                return if e.code() == Some("InvocationDoesNotExist") {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        let status = out.status().cloned().unwrap_or(CommandInvocationStatus::Pending);
        if matches!(
            status,
            CommandInvocationStatus::Pending | CommandInvocationStatus::InProgress | CommandInvocationStatus::Delayed
        ) {
            return Ok(None);
        }
        Ok(Some(Ended {
            status: status.as_str().to_string(),
            stdout: out.standard_output_content().unwrap_or_default().to_string(),
            stderr: out.standard_error_content().unwrap_or_default().to_string(),
        }))
    }

    /// Waits for an invocation to end, for at most `limit`.
    pub async fn wait(&self, command_id: &str, limit: Duration, what: &str) -> Result<Ended, AwsError> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(ended) = self.poll_once(command_id).await? {
                return Ok(ended);
            }
            if started.elapsed() >= limit {
                return Err(AwsError::Other {
                    action: "ssm:GetCommandInvocation".into(),
                    detail: format!(
                        "{what} did not finish on {} within {} s",
                        self.instance_id,
                        limit.as_secs()
                    ),
                });
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Runs `script` to its end; its stdout when it succeeded.
    pub async fn run(&self, script: &str, limit: Duration, what: &str) -> Result<String, AwsError> {
        let started = Instant::now();
        let id = self
            .start(script, limit, what)
            .await
            .inspect_err(|e| self.report(what, None, started, Some(e.to_string())))?;
        let result = match self.wait(&id, limit + Duration::from_secs(30), what).await {
            Ok(ended) if ended.status == "Success" => Ok(ended.stdout),
            Ok(ended) => Err(AwsError::Other {
                action: "ssm:SendCommand".into(),
                detail: format!(
                    "{what} on {} ended {}: {}",
                    self.instance_id,
                    ended.status,
                    ended.stderr.trim()
                ),
            }),
            Err(e) => Err(e),
        };
        self.report(what, Some(&id), started, result.as_ref().err().map(ToString::to_string));
        result
    }

    /// Starts a long-running command (`start`), telling the observer it was sent.
    pub async fn launch(&self, script: &str, timeout: Duration, what: &str) -> Result<String, AwsError> {
        let started = Instant::now();
        let sent = self.start(script, timeout, what).await;
        self.report(
            what,
            sent.as_ref().ok().map(String::as_str),
            started,
            sent.as_ref().err().map(ToString::to_string),
        );
        sent
    }
}
