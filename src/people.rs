//! The one people endpoint the TFA flows need: `GET /api/2.0/people/@self`.

use ureq::http::Method;

use crate::answer::Shape;
use crate::client::Client;
use crate::error::Result;
use crate::models::Me;
use crate::request::{Credential, Request};
use crate::typed;

/// Handler for the people endpoints; see [`Client::people`].
#[derive(Debug, Clone, Copy)]
pub struct People<'c> {
    client: &'c Client,
}

impl<'c> People<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        People { client }
    }

    /// The signed-in user (`GET people/@self`): id, name, e-mail, owner and admin flags.
    ///
    /// Any signed-in member. Changes nothing; retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) without a valid token.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let me = client.people().me()?;
    /// println!("signed in as {} ({})", me.display_name, me.id);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn me(&self) -> Result<Me> {
        self.client
            .send_fast(
                Request::new(Method::GET, "people/@self", Credential::Bearer),
                typed::object,
            )?
            .or_general(|reply| reply.decode("user", Shape::Object))
    }
}
