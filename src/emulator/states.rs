//! The handle's calls that put the portal in the states a policy check looks for
//! (`docspace-tfa doctor`, `docs/emulator.md`, "States for the doctor"): groups, deleted
//! members and groups, an SMS policy whose provider is gone, the server's version. A saved
//! malformed trusted IP needs no call of its own: [`Emulator::set_policy`] writes the policy
//! unchecked.

use super::handle::Emulator;
use super::server::lock;
use super::state::Group;
use crate::error::{Error, Result};
use crate::text::is_guid;

impl Emulator {
    /// Adds a group to the directory (`GET group/{id}` finds it; put members in it with
    /// [`NewUser::group`](super::NewUser::group)). A group a member is in exists without this
    /// call, named "Group".
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `id` is not a GUID or
    /// the group exists.
    ///
    /// ```
    /// use docspace_tfa::emulator::Emulator;
    ///
    /// let portal = Emulator::start()?;
    /// portal.add_group("c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e", "Accounting")?;
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn add_group(&self, id: &str, name: &str) -> Result<()> {
        if !is_guid(id) {
            return Err(Error::invalid_input(
                "emulator group",
                "the id is not a GUID",
            ));
        }
        let mut state = lock(&self.shared.state);
        if state.groups.iter().any(|g| g.id.eq_ignore_ascii_case(id)) {
            return Err(Error::invalid_input(
                "emulator group",
                "a group with this id exists",
            ));
        }
        state.groups.push(Group {
            id: id.to_ascii_lowercase(),
            name: name.to_owned(),
        });
        Ok(())
    }

    /// Deletes a member, as an admin deleting a profile does: `GET people/{id}` answers `404`
    /// from then on, their sessions and API keys end, and the policy keeps naming them (the
    /// server does not edit `mandatoryUsers` when a member is deleted).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an unknown user id.
    pub fn remove_user(&self, user_id: &str) -> Result<()> {
        let mut state = lock(&self.shared.state);
        let index = state
            .user_index(user_id)
            .ok_or_else(|| Error::invalid_input("emulator user", "no member has this id"))?;
        let id = state.remove_user(index).id;
        state.sessions.retain(|_, uid| *uid != id);
        state.api_keys.retain(|_, uid| *uid != id);
        Ok(())
    }

    /// Deletes a group: `GET group/{id}` answers `404` from then on, its members leave it, and
    /// the policy keeps naming it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when no group has this id.
    pub fn remove_group(&self, group_id: &str) -> Result<()> {
        let mut state = lock(&self.shared.state);
        if state.group(group_id).is_none() {
            return Err(Error::invalid_input(
                "emulator group",
                "no group has this id",
            ));
        }
        state
            .groups
            .retain(|g| !g.id.eq_ignore_ascii_case(group_id));
        for user in &mut state.users {
            user.groups.retain(|g| !g.eq_ignore_ascii_case(group_id));
        }
        Ok(())
    }

    /// Configures or removes the portal's SMS provider, leaving the saved policy alone. With
    /// the SMS policy on and the provider removed, as on the server: `GET settings/tfaapp`
    /// lists SMS with `enabled: false, available: false` and its saved lists
    /// (`TfaappController.cs:70-111`: both flags need a provider), while the setting stays on
    /// and logins still take the SMS branch (its checks ignore the provider,
    /// `AuthenticationController.cs:235`, `TfaSettingsBase.cs:64-100`); a member without an
    /// activated phone is sent to phone activation, and every code send — the login's,
    /// `setphone`'s, `sendsms` — fails with `500` `MethodAccessException`
    /// (`SmsManager.cs:100-103`); switching SMS on is refused (`403`, `TfaappController.cs:215-218`).
    pub fn set_sms_provider(&self, configured: bool) {
        lock(&self.shared.state).config.sms_provider = configured;
    }

    /// The version `GET settings/version/build` answers (`docSpace`); default `3.7.2`.
    pub fn set_server_version(&self, version: &str) {
        lock(&self.shared.state).config.server_version = version.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::NewUser;

    const GROUP: &str = "c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e";

    #[test]
    fn groups_and_members_come_and_go() {
        let portal = Emulator::start().unwrap();
        assert!(portal.add_group("not-a-guid", "x").is_err());
        portal.add_group(GROUP, "Accounting").unwrap();
        assert!(portal.add_group(GROUP, "again").is_err());
        let id = portal
            .add_user(NewUser::new("m@x.y", "pw").group(GROUP))
            .unwrap();
        let key = portal.issue_api_key(&id).unwrap();
        portal.remove_user(&id).unwrap();
        assert!(portal.user_state(&id).is_none());
        assert!(portal.remove_user(&id).is_err());
        let state = lock(&portal.shared.state);
        assert!(state.user_for_token(key.expose()).is_none());
        drop(state);
        portal.remove_group(GROUP).unwrap();
        assert!(portal.remove_group(GROUP).is_err());
    }
}
