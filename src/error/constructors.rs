//! The constructors of [`Error`] (their texts clean already) and what a retry or advice adds.

use std::time::Duration;

use super::{Advice, BoxError, Error, ErrorKind, Inner, Repr, StatusError, Tries};

impl Error {
    fn new(repr: Repr) -> Self {
        Error(Box::new(Inner {
            repr,
            tries: None,
            advice: None,
        }))
    }

    /// The same error, with what to do next.
    pub(crate) fn with_advice(mut self, advice: Advice) -> Self {
        self.0.advice = Some(advice);
        self
    }

    /// The same error, after `attempts` attempts over `over` (shown when more than one).
    pub(crate) fn after_tries(mut self, attempts: u32, over: Duration) -> Self {
        if attempts > 1 {
            self.0.tries = Some(Tries { attempts, over });
        }
        self
    }

    /// Bad input, caught before sending. `reason` must not quote a secret.
    pub(crate) fn invalid_input(what: &'static str, reason: impl Into<String>) -> Self {
        Error::new(Repr::InvalidInput {
            what,
            reason: reason.into(),
        })
    }

    /// A flow step ruled out by an earlier answer: [`ErrorKind::TfaNotApplicable`] or
    /// [`ErrorKind::NotAvailable`], with what the answer said (no secret).
    pub(crate) fn precondition(
        operation: &str,
        kind: ErrorKind,
        reason: impl Into<String>,
    ) -> Self {
        Error::new(Repr::Precondition {
            operation: operation.to_owned(),
            kind,
            reason: reason.into(),
        })
    }

    /// A local I/O failure.
    #[cfg_attr(not(feature = "totp"), allow(dead_code))] // used by the QR image writer
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::new(Repr::Io {
            what: what.into(),
            source,
        })
    }

    /// No complete answer: [`ErrorKind::Timeout`] when `timeout`, else [`ErrorKind::Network`].
    pub(crate) fn transport(operation: String, timeout: bool, source: BoxError) -> Self {
        Error::new(Repr::Transport {
            operation,
            timeout,
            source,
        })
    }

    /// A response body over the client's limit of `limit` bytes.
    pub(crate) fn too_large(operation: String, limit: u64) -> Self {
        Error::new(Repr::ResponseTooLarge { operation, limit })
    }

    /// A `3xx`; `location` already redacted.
    pub(crate) fn redirect(operation: String, status: u16, location: Option<String>) -> Self {
        Error::new(Repr::Redirect {
            operation,
            status,
            location,
        })
    }

    /// A success whose body is not what was expected; `reason` and `snippet` already bounded
    /// and redacted.
    pub(crate) fn decode(
        operation: String,
        expected: &'static str,
        reason: String,
        snippet: String,
    ) -> Self {
        Error::new(Repr::Decode {
            operation,
            expected,
            reason,
            snippet,
        })
    }

    /// `cause` (an error status), explained as the server's known defect: `advice` says what
    /// it means and the ways out, and replaces the cause's own. Anything but an error status is
    /// returned unchanged.
    pub(crate) fn server_defect(cause: Error, defect: Advice) -> Self {
        let Inner {
            repr,
            tries,
            advice,
        } = *cause.0;
        let (repr, advice) = match repr {
            Repr::Status(s) => (
                Repr::ServerDefect {
                    operation: s.operation,
                    status: s.status,
                    kind: s.kind,
                    message: s.message,
                    error_type: s.error_type,
                },
                Some(defect),
            ),
            other => (other, advice),
        };
        Error(Box::new(Inner {
            repr,
            tries,
            advice,
        }))
    }

    /// An error status; its texts already bounded and redacted.
    pub(crate) fn status_error(status: StatusError) -> Self {
        Error::new(Repr::Status(status))
    }
}
