//! The model's rosters: who is in each conversation, how a join, an update or
//! a departure changes that, and a roster read whole (after opening a
//! conversation, or a resync), compared with the one held.

use std::collections::BTreeMap;

use super::change::Change;
use super::model::{Model, Scope};
use crate::api::Participant;

impl Model {
    /// A participant joined (`joined`) or changed. A view keeps only rosters
    /// it loaded; a cache keeps whatever it is told.
    pub fn upsert_participant(&mut self, p: Participant, joined: bool) -> Vec<Change> {
        let cache = self.scope() == Scope::Cache;
        let Some(state) = self.convs.get_mut(&p.conversation_sid) else { return Vec::new() };
        if state.removed.contains(&p.sid) || (!cache && !state.roster_complete) {
            return Vec::new();
        }
        match state.roster.insert(p.sid.clone(), p.clone()) {
            Some(old) if old == p => Vec::new(),
            None if joined => vec![Change::ParticipantJoined(p)],
            old => vec![Change::ParticipantUpdated { old, new: p }],
        }
    }

    /// A participant left or was removed: reported once, and their typing ends.
    pub fn remove_participant(&mut self, p: &Participant) -> Vec<Change> {
        let mut out = Vec::new();
        if let Some(identity) = &p.identity {
            out.extend(self.stop_typing(&p.conversation_sid, identity));
        }
        let cache = self.scope() == Scope::Cache;
        let Some(state) = self.convs.get_mut(&p.conversation_sid) else { return out };
        let held = state.roster.remove(&p.sid).is_some();
        if state.removed.insert(p.sid.clone()) && (held || cache) {
            out.push(Change::ParticipantLeft(p.clone()));
        }
        out
    }

    /// A roster read whole replaces the one held; what differs from a roster
    /// held before is reported participant by participant too.
    pub fn set_roster(&mut self, conversation_sid: &str, participants: Vec<Participant>) -> Vec<Change> {
        let Some(state) = self.convs.get_mut(conversation_sid) else { return Vec::new() };
        let fresh: BTreeMap<String, Participant> = participants.iter().map(|p| (p.sid.clone(), p.clone())).collect();
        let mut changes = Vec::new();
        if !state.roster.is_empty() {
            for (sid, p) in &state.roster {
                if !fresh.contains_key(sid) {
                    changes.push(Change::ParticipantLeft(p.clone()));
                }
            }
            for p in &participants {
                match state.roster.get(&p.sid) {
                    None => changes.push(Change::ParticipantJoined(p.clone())),
                    Some(old) if old != p => {
                        changes.push(Change::ParticipantUpdated { old: Some(old.clone()), new: p.clone() })
                    }
                    Some(_) => {}
                }
            }
        }
        for change in &changes {
            if let Change::ParticipantLeft(p) = change {
                state.removed.insert(p.sid.clone());
            }
        }
        state.roster = fresh;
        state.roster_complete = true;
        vec![Change::Roster { conversation_sid: conversation_sid.to_owned(), participants, changes }]
    }

    /// A held participant by SID or identity.
    pub fn participant(&self, conversation_sid: &str, sid_or_identity: &str) -> Option<&Participant> {
        self.conv(conversation_sid)?
            .roster
            .values()
            .find(|p| p.sid == sid_or_identity || p.identity.as_deref() == Some(sid_or_identity))
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::tests::{model_with, participant};
    use super::*;

    #[test]
    fn a_view_reports_participants_only_once_its_roster_is_loaded() {
        let mut m = model_with(Scope::View, None, None);
        assert!(m.upsert_participant(participant("CH1", "MB2", "bob"), true).is_empty());
        let loaded = m.set_roster("CH1", vec![participant("CH1", "MB2", "bob")]);
        assert!(matches!(&loaded[..], [Change::Roster { changes, .. }] if changes.is_empty()));
        assert!(m.upsert_participant(participant("CH1", "MB2", "bob"), true).is_empty(), "nothing changed");
        assert_eq!(m.remove_participant(&participant("CH1", "MB2", "bob")).len(), 1);
        assert!(m.remove_participant(&participant("CH1", "MB2", "bob")).is_empty(), "left twice");
        assert!(m.upsert_participant(participant("CH1", "MB2", "bob"), false).is_empty(), "a late update");
    }

    #[test]
    fn a_roster_read_again_reports_who_came_and_went() {
        let mut m = model_with(Scope::Cache, None, None);
        m.upsert_participant(participant("CH1", "MB2", "bob"), true);
        let out = m.set_roster("CH1", vec![participant("CH1", "MB3", "carol")]);
        let [Change::Roster { changes, .. }] = &out[..] else { panic!("{out:?}") };
        assert!(matches!(&changes[..], [Change::ParticipantLeft(_), Change::ParticipantJoined(_)]), "{changes:?}");
    }
}
