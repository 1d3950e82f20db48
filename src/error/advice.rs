//! [`Advice`]: what to do next about a failure, where the crate can tell from the answer.

use std::fmt;
use std::time::Duration;

/// What to do next about a failure, where the answer says more than its status: an empty
/// `401` means the credential itself was refused, an empty `404` that no DocSpace API lives
/// at the base URL, and so on. [`Error`](crate::Error)'s `Display` ends with it (after `; `);
/// [`Error::advice`](crate::Error::advice) gives it to a program that words it its own way
/// (the CLI names its own options).
///
/// ```
/// use docspace_tfa::Advice;
///
/// let advice = Advice::HostNotFound { host: "portal.example.invalid".into() };
/// assert!(advice.to_string().starts_with("the host name portal.example.invalid does not resolve"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Advice {
    /// A `401` with an empty body to a request with a bearer token: the portal's
    /// authentication refused the token before any endpoint ran (a wrong, revoked or
    /// expired token, or one of another portal).
    TokenRefused,
    /// A `401` with an empty body to a request with a confirm ticket: the ticket's key is
    /// wrong or expired (tickets last an hour by default; a successful validation spends it).
    TicketRefused,
    /// A `404` with an empty body: no DocSpace API answered at the base URL (a path after the
    /// host, or another site); the portal's own "not found" carries an error body.
    NoApiAtUrl,
    /// The name lookup of this host failed: it does not resolve (a typo in the base URL, a
    /// name only an internal DNS knows, or no DNS at all).
    HostNotFound {
        /// The host name that was looked up (the portal's, or the proxy's).
        host: String,
    },
    /// The portal's lock of code checks (`403` from `settings/tfaapp/validate`, text
    /// `TfaTooMuchError`, which says "too many text messages" even for an app code): more
    /// checks than the portal's attempt count (`LoginSettings.AttemptCount`, 5 by default)
    /// within a minute. Every code of this user is refused, a correct one too, until a minute
    /// after the last counted check (`web/ASC.Web.Core/Tfa/TfaManager.cs:106-128`).
    CodeLock,
    /// The portal's login lock (`403` from `POST authentication`, `ErrorTooManyLoginAttempts`):
    /// too many failed logins of this account within a minute; every login is refused, the
    /// right password too, for about a minute (`web/ASC.Web.Api/Api/AuthenticationController.cs:610`,
    /// `web/ASC.Web.Core/BruteForceLoginManager.cs:146-159`).
    LoginLock,
    /// A `401` from `POST authentication/{code}`: the portal wraps every failure of a login
    /// with a code as "User authentication failed" (`web/ASC.Web.Api/Api/AuthenticationController.cs:190-196`),
    /// a wrong or expired code, a wrong password and its attempt lock alike; after too many
    /// code checks within a minute, a correct code fails too, for about a minute.
    CodeLoginRefused,
    /// A `401` from the SMS code login to a phone number of 10 or more digits, on a server
    /// with the `phoneNoise` defect (every released one): a right code is spent, the phone
    /// activated and a session opened, yet the answer is this `401`, as for a wrong code
    /// ([`Error::is_server_defect`](crate::Error::is_server_defect); `SmsSender.cs:72-97`).
    SmsPhoneNoiseDefect,
    /// A `503`: the portal, or the proxy in front of it, cannot answer now.
    Unavailable,
    /// A `429`: too many requests; wait before the next one (as long as the server asked,
    /// when it did).
    TooManyRequests {
        /// The `Retry-After` delay, when the server sent one.
        retry_after: Option<Duration>,
    },
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::TokenRefused => f.write_str(
                "the portal refused the bearer token: check the token (wrong, revoked, expired, \
                 or of another portal?)",
            ),
            Advice::TicketRefused => f.write_str(
                "the portal refused the confirm ticket: it is wrong or expired (tickets last an \
                 hour by default, and a successful validation spends one); get a new ticket",
            ),
            Advice::NoApiAtUrl => f.write_str(
                "no DocSpace API at this URL: check the base URL, which should be the portal's \
                 root (such as https://portal.example.com, with no path)",
            ),
            Advice::HostNotFound { host } => write!(
                f,
                "the host name {host} does not resolve: check the host in the base URL (and \
                 the network's DNS)"
            ),
            Advice::CodeLock => f.write_str(
                "this is the portal's attempt lock, whatever its text says: after too many code \
                 checks within a minute (5 by default) the portal refuses every code of this \
                 user, a correct one too, until about a minute after the last counted check; \
                 wait a minute, then enter a fresh code",
            ),
            Advice::LoginLock => f.write_str(
                "this is the portal's login lock: after too many failed logins within a minute \
                 every login of this account is refused, the right password too, for about a \
                 minute; wait a minute before the next try",
            ),
            Advice::CodeLoginRefused => f.write_str(
                "the portal does not say why a login with a code fails: a wrong or expired code, \
                 a wrong password, or its attempt lock (after too many code checks within a \
                 minute, a correct code fails too, for about a minute); check the code and the \
                 password, and after several tries wait a minute",
            ),
            Advice::SmsPhoneNoiseDefect => f.write_str(
                "the portal cannot finish an SMS login to a phone number of 10 or more digits \
                 (the server's phoneNoise defect, in 3.7.2, the 3.8 branch and develop): a right \
                 code is spent, the phone activated and a session opened, yet the answer is this \
                 401, and a wrong code gets the same answer. Ways out: have an administrator \
                 switch the portal's second factor to the authenticator app, or use a phone \
                 number of at most 9 digits (an activated number must first be erased by an \
                 administrator)",
            ),
            Advice::Unavailable => f.write_str(
                "the portal (or the proxy in front of it) cannot answer now; try again later",
            ),
            Advice::TooManyRequests { retry_after } => match retry_after {
                Some(wait) => write!(
                    f,
                    "too many requests; the server asks to wait {} s before the next one",
                    wait.as_secs()
                ),
                None => f.write_str("too many requests; wait before the next one"),
            },
        }
    }
}

/// How many attempts a call made, and over how long, when it made more than one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tries {
    pub(crate) attempts: u32,
    pub(crate) over: Duration,
}

impl fmt::Display for Tries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.over.as_secs_f64();
        if secs < 10.0 {
            write!(f, "{} attempts over {secs:.1} s", self.attempts)
        } else {
            write!(f, "{} attempts over {secs:.0} s", self.attempts)
        }
    }
}
