//! Fault injection: make the emulator answer chosen requests with an error status, to test
//! how a program copes with a portal (or its proxy) that fails. The handle's calls
//! (`Emulator::add_fault`, …) and the builder's (`EmulatorBuilder::fault`) are with them.

use super::routes::template_of;

/// A rule that answers matching requests with an error status instead of handling them.
///
/// A rule matches a request by method and path (each optional: no method or no path matches
/// every one) and fires a number of times (or forever). The path is compared as the request
/// log compares it: as sent or as a template, with or without `/api/2.0/`. The answer is the
/// status with an empty body, as a proxy or a framework refusal sends it. Rules are checked
/// in the order they were added; the first match that has firings left answers.
///
/// ```
/// use docspace_tfa::emulator::{Emulator, Fault};
/// use docspace_tfa::ErrorKind;
///
/// let portal = Emulator::start()?;
/// portal.add_fault(Fault::status(503).on("GET", "settings/tfaapp").times(1));
/// let client = portal.client()?.with_token("no-token-needed-for-the-fault");
/// // The first attempt fails with 503, the retry reaches the emulator (and gets a 401 here).
/// let err = client.tfa().methods().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Unauthorized);
/// assert_eq!(portal.request_count("GET", "settings/tfaapp"), 2);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    method: Option<String>,
    path: Option<String>,
    status: u16,
    times: Option<u32>,
    /// Fire on one matching request in this many (`1`: every one).
    every: u32,
    /// Matching requests seen, for `every`.
    seen: u32,
    /// Handle the request, then break the connection instead of answering.
    drop: bool,
}

/// What a fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Answer this status with an empty body; the request is not handled.
    Status(u16),
    /// Handle the request (its effect on the portal happens), then break the connection
    /// before a whole answer is sent: the client cannot know whether it took effect.
    Drop,
}

impl Fault {
    /// A rule answering `status` (clamped to `100..=599`) to every request, forever.
    pub fn status(status: u16) -> Fault {
        Fault {
            method: None,
            path: None,
            status: status.clamp(100, 599),
            times: None,
            every: 1,
            seen: 0,
            drop: false,
        }
    }

    /// A rule that lets matching requests take effect and then breaks the connection before
    /// the answer is complete (a proxy or network that drops the line): the client sees a
    /// transport error and cannot know whether the request was handled.
    pub fn dropped() -> Fault {
        Fault {
            drop: true,
            ..Fault::status(500)
        }
    }

    /// Fires on one matching request in `n` (the `n`th, `2n`th, …), a deterministic share of
    /// the traffic; `0` and `1` fire on every one.
    pub fn one_in(mut self, n: u32) -> Fault {
        self.every = n.max(1);
        self
    }

    /// Only requests with this method and path (such as `"POST"`,
    /// `"settings/tfaapp/validate"`); `"*"` as either matches any.
    pub fn on(mut self, method: &str, path: &str) -> Fault {
        self.method = (method != "*").then(|| method.to_ascii_uppercase());
        self.path = (path != "*").then(|| path.to_owned());
        self
    }

    /// Fires `n` times, then no more (`0`: never).
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// Parses the CLI's `--fault` syntax: `STATUS[xN][/K][@[METHOD ]PATH]`, such as `503`,
    /// `503x2`, `502@settings/tfaapp/setup` or `500x1@POST settings/tfaapp/validate`; `/K`
    /// fires on one matching request in `K`; `drop` in place of the status breaks the
    /// connection after handling the request (`drop/10`).
    ///
    /// # Errors
    ///
    /// A message saying what is wrong with the text.
    pub fn parse(text: &str) -> Result<Fault, String> {
        let (head, target) = match text.split_once('@') {
            Some((h, t)) => (h.trim(), Some(t.trim())),
            None => (text.trim(), None),
        };
        let (head, every) = match head.split_once('/') {
            Some((h, k)) => (
                h.trim(),
                Some(
                    k.trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|k| *k > 0)
                        .ok_or("the share after `/` must be a whole number above 0")?,
                ),
            ),
            None => (head, None),
        };
        let (status, times) = match head.split_once(['x', 'X']) {
            Some((s, n)) => (s, Some(n)),
            None => (head, None),
        };
        let mut fault = if status.trim().eq_ignore_ascii_case("drop") {
            Fault::dropped()
        } else {
            let status: u16 = status
                .trim()
                .parse()
                .ok()
                .filter(|s| (100..=599).contains(s))
                .ok_or("the status must be a number from 100 to 599, or `drop`")?;
            Fault::status(status)
        };
        if let Some(k) = every {
            fault = fault.one_in(k);
        }
        if let Some(n) = times {
            fault = fault.times(
                n.trim()
                    .parse()
                    .map_err(|_| "the count after `x` must be a whole number")?,
            );
        }
        if let Some(target) = target.filter(|t| !t.is_empty()) {
            fault = match target.split_once(' ') {
                Some((m, p)) => fault.on(m.trim(), p.trim()),
                None => fault.on("*", target),
            };
        }
        Ok(fault)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = self.path.as_deref().is_none_or(|p| {
            let want = p.trim_start_matches('/');
            let want = want.strip_prefix("api/2.0/").unwrap_or(want);
            want.eq_ignore_ascii_case(path)
                || template_of(path).is_some_and(|t| t.eq_ignore_ascii_case(want))
        });
        method_ok && path_ok && self.times != Some(0)
    }
}

/// The rules of a running emulator.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    pub(crate) fn new(rules: Vec<Fault>) -> Faults {
        Faults(rules)
    }

    /// What to do with `method path` (the path under `/api/2.0/`), spending one firing of
    /// the rule; `None` to handle the request normally. A rule with a share (`one_in`) counts
    /// every matching request and fires on every `k`th.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<Action> {
        for rule in self.0.iter_mut().filter(|f| f.matches(method, path)) {
            rule.seen = rule.seen.wrapping_add(1);
            if rule.seen % rule.every != 0 {
                continue;
            }
            if let Some(n) = &mut rule.times {
                *n -= 1;
            }
            return Some(match rule.drop {
                true => Action::Drop,
                false => Action::Status(rule.status),
            });
        }
        None
    }

    /// Adds a rule after the others.
    pub(crate) fn add(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    /// Removes every rule.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let f = Fault::parse("500x1@POST settings/tfaapp/validate").unwrap();
        assert_eq!(
            f,
            Fault::status(500)
                .times(1)
                .on("POST", "settings/tfaapp/validate")
        );
        assert!(f.matches("POST", "settings/tfaapp/validate"));
        assert!(!f.matches("GET", "settings/tfaapp/validate"));
        let f = Fault::parse("502@/api/2.0/authentication/{code}").unwrap();
        assert!(f.matches("POST", "authentication/123456"));
        assert!(!f.matches("POST", "authentication"));
        assert_eq!(Fault::parse("503").unwrap(), Fault::status(503));
        assert_eq!(Fault::parse("503/4").unwrap(), Fault::status(503).one_in(4));
        assert_eq!(
            Fault::parse("drop/10@POST settings/tfaapp/validate").unwrap(),
            Fault::dropped()
                .one_in(10)
                .on("POST", "settings/tfaapp/validate")
        );
        for bad in [
            "", "abc", "99", "600", "503x", "503xz", "503/0", "503/x", "drops",
        ] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_fire_on_every_kth_match() {
        let mut faults = Faults(vec![
            Fault::dropped().one_in(3).on("POST", "*"),
            Fault::status(503).one_in(2),
        ]);
        let got: Vec<_> = (0..6)
            .map(|_| faults.take("POST", "authentication"))
            .collect();
        // The drop rule fires on the 3rd and 6th; the 503 rule counts only what reaches it.
        assert_eq!(
            got,
            [
                None,
                Some(Action::Status(503)),
                Some(Action::Drop),
                None,
                Some(Action::Status(503)),
                Some(Action::Drop),
            ]
        );
    }

    #[test]
    fn firings_run_out() {
        let mut faults = Faults(vec![
            Fault::status(503).times(2),
            Fault::status(500).on("GET", "people/@self"),
        ]);
        assert_eq!(
            faults.take("GET", "people/@self"),
            Some(Action::Status(503))
        );
        assert_eq!(
            faults.take("POST", "authentication"),
            Some(Action::Status(503))
        );
        assert_eq!(
            faults.take("GET", "people/@self"),
            Some(Action::Status(500))
        );
        assert_eq!(faults.take("POST", "authentication"), None);
    }
}
