//! SQL for the account's and the service's configuration rows.

use super::db::{Connection, OptionalExtension, Result, params};

use super::rows::{AccountConfigurationRow, ServiceConfigurationRow};

/// The service's configuration, `None` before the first start with roles made it.
pub fn service(conn: &Connection, service_sid: &str) -> Result<Option<ServiceConfigurationRow>> {
    conn.prepare_cached(
        "SELECT default_conversation_creator_role_sid, default_conversation_role_sid, \
         default_chat_service_role_sid, reachability_enabled FROM service_configuration WHERE service_sid = ?1",
    )?
    .query_row([service_sid], |r| {
        Ok(ServiceConfigurationRow {
            default_conversation_creator_role_sid: r.get(0)?,
            default_conversation_role_sid: r.get(1)?,
            default_chat_service_role_sid: r.get(2)?,
            reachability_enabled: r.get::<i64>(3)? != 0,
        })
    })
    .optional()
}

pub fn insert_service(conn: &Connection, service_sid: &str, c: &ServiceConfigurationRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO service_configuration (service_sid, default_conversation_creator_role_sid, \
         default_conversation_role_sid, default_chat_service_role_sid, reachability_enabled) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        service_sid,
        c.default_conversation_creator_role_sid,
        c.default_conversation_role_sid,
        c.default_chat_service_role_sid,
        i64::from(c.reachability_enabled)
    ])?;
    Ok(())
}

pub fn update_service(conn: &Connection, service_sid: &str, c: &ServiceConfigurationRow) -> Result<()> {
    conn.prepare_cached(
        "UPDATE service_configuration SET default_conversation_creator_role_sid = ?2, \
         default_conversation_role_sid = ?3, default_chat_service_role_sid = ?4, reachability_enabled = ?5 \
         WHERE service_sid = ?1",
    )?
    .execute(params![
        service_sid,
        c.default_conversation_creator_role_sid,
        c.default_conversation_role_sid,
        c.default_chat_service_role_sid,
        i64::from(c.reachability_enabled)
    ])?;
    Ok(())
}

/// Whether `role_sid` is one of the service's default roles.
pub fn is_default_role(conn: &Connection, role_sid: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM service_configuration WHERE default_conversation_creator_role_sid = ?1 \
         OR default_conversation_role_sid = ?1 OR default_chat_service_role_sid = ?1",
    )?
    .exists([role_sid])
}

/// The account's configuration (all unset until first updated).
pub fn account(conn: &Connection) -> Result<AccountConfigurationRow> {
    let found = conn
        .prepare_cached(
            "SELECT default_chat_service_sid, default_messaging_service_sid, default_inactive_timer, \
             default_closed_timer FROM account_configuration WHERE id = 1",
        )?
        .query_row(params![], |r| {
            Ok(AccountConfigurationRow {
                default_chat_service_sid: r.get(0)?,
                default_messaging_service_sid: r.get(1)?,
                default_inactive_timer: r.get(2)?,
                default_closed_timer: r.get(3)?,
            })
        })
        .optional()?;
    Ok(found.unwrap_or_default())
}

pub fn save_account(conn: &Connection, c: &AccountConfigurationRow) -> Result<()> {
    conn.prepare_cached("DELETE FROM account_configuration WHERE id = 1")?.execute(params![])?;
    conn.prepare_cached(
        "INSERT INTO account_configuration (id, default_chat_service_sid, default_messaging_service_sid, \
         default_inactive_timer, default_closed_timer) VALUES (1, ?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        c.default_chat_service_sid,
        c.default_messaging_service_sid,
        c.default_inactive_timer,
        c.default_closed_timer
    ])?;
    Ok(())
}
