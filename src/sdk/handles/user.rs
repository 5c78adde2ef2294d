//! `User`: a chat user (the signed-in one or another), as Twilio's SDK shows
//! it: identity, friendly name, attributes, reachability, and the two updates.

use std::sync::Arc;

use serde_json::Value;

use super::shared::{Shared, parse_attributes};
use crate::api::{self, params::UserParams};
use crate::sdk::error::Result;

/// A user (a snapshot; the latest comes with `Event::UserUpdated`).
#[derive(Clone)]
pub struct User {
    shared: Arc<Shared>,
    data: api::User,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("identity", &self.data.identity).finish()
    }
}

impl User {
    pub(crate) fn new(shared: Arc<Shared>, data: api::User) -> Self {
        Self { shared, data }
    }

    /// The raw wire resource.
    pub fn resource(&self) -> &api::User {
        &self.data
    }
    /// The user SID (`US…`).
    pub fn sid(&self) -> &str {
        &self.data.sid
    }
    /// The identity (what access tokens name).
    pub fn identity(&self) -> &str {
        &self.data.identity
    }
    /// The display name, if set.
    pub fn friendly_name(&self) -> Option<String> {
        self.data.friendly_name.clone()
    }
    /// The attributes, parsed (`{}` when unset).
    pub fn attributes(&self) -> Value {
        parse_attributes(&self.data.attributes)
    }
    /// `None` unless the server reports reachability.
    pub fn is_online(&self) -> Option<bool> {
        self.data.is_online
    }
    /// `None` unless the server reports reachability.
    pub fn is_notifiable(&self) -> Option<bool> {
        self.data.is_notifiable
    }

    async fn update(&self, params: UserParams) -> Result<User> {
        let user = self.shared.rest.update_user(&self.data.identity, &params).await?;
        self.shared.apply(|m| m.apply_user(user.clone())).await;
        Ok(User::new(self.shared.clone(), user))
    }

    /// Sets the friendly name; resolves to the updated user.
    pub async fn update_friendly_name(&self, friendly_name: &str) -> Result<User> {
        self.update(UserParams { friendly_name: Some(friendly_name.to_owned()), ..Default::default() }).await
    }

    /// Replaces the attributes; resolves to the updated user.
    pub async fn update_attributes(&self, attributes: &Value) -> Result<User> {
        self.update(UserParams { attributes: Some(attributes.to_string()), ..Default::default() }).await
    }
}
