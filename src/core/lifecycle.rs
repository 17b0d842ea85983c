//! The one lifecycle engine: a resource's states and actions as data. A [`Lifecycle`] is a table of
//! `(from, action) → to` with the roles allowed, whether a reason is required and the event type; handlers (the role
//! gate), the 409 answers (`allowedActions`), the history, the events and the documentation all read the same table.
//! Applications and referrals use it; every later lifecycle resource plugs in with a table of its own.

use std::fmt::Display;

use crate::core::identity::Role;

/// Where a transition leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<S: 'static> {
    /// Always this state.
    To(S),
    /// Decided by the resource's effect (e.g. a referral becomes `answered` once every target has answered); the
    /// text says how, for the documentation.
    Computed(&'static str),
}

/// One allowed transition.
#[derive(Debug)]
pub struct Transition<S: 'static, A: 'static> {
    pub action: A,
    pub from: &'static [S],
    pub to: Target<S>,
    /// The roles that may take the action (a municipality only on what its organisation may see).
    pub roles: &'static [Role],
    pub reason_required: bool,
    /// The event the transition emits, `<kind>.<what>` (the history entry is named after the action).
    pub event: &'static str,
}

impl<S: Copy, A> Transition<S, A> {
    /// The state the transition leads to, given the state the resource's effect decided on for a computed target.
    pub fn target(&self, computed: S) -> S {
        match self.to {
            Target::To(s) => s,
            Target::Computed(_) => computed,
        }
    }
}

/// An action refused in a state: the state, and the actions that state allows (answered as 409 by
/// `crate::error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub from: String,
    pub allowed: Vec<String>,
}

/// A lifecycle: every transition of one kind of resource, each action exactly once.
#[derive(Debug)]
pub struct Lifecycle<S: 'static, A: 'static> {
    pub transitions: &'static [Transition<S, A>],
}

impl<S, A> Lifecycle<S, A>
where
    S: Copy + Eq + Display + 'static,
    A: Copy + Eq + Display + 'static,
{
    pub const fn new(transitions: &'static [Transition<S, A>]) -> Self {
        Self { transitions }
    }

    /// The transition of `action`. Every action has exactly one row (each lifecycle's unit test keeps it so), so
    /// the fallback to the first row is never taken.
    pub fn rule(&self, action: A) -> &'static Transition<S, A> {
        let all = self.transitions;
        all.iter().find(|t| t.action == action).unwrap_or(&all[0])
    }

    /// The roles that may take `action` (the handlers' role gate).
    pub fn roles(&self, action: A) -> &'static [Role] {
        self.rule(action).roles
    }

    /// The actions possible in a state (for any role).
    pub fn allowed_actions(&self, status: S) -> Vec<A> {
        self.transitions
            .iter()
            .filter(|t| t.from.contains(&status))
            .map(|t| t.action)
            .collect()
    }

    /// The transition of `action` if `status` allows it; otherwise what the state allows.
    pub fn check(&self, status: S, action: A) -> Result<&'static Transition<S, A>, Refused> {
        let rule = self.rule(action);
        if rule.from.contains(&status) {
            Ok(rule)
        } else {
            Err(Refused {
                from: status.to_string(),
                allowed: self.allowed_actions(status).iter().map(ToString::to_string).collect(),
            })
        }
    }

    /// The lifecycle as a Markdown table, for the OpenAPI document and the docs (generated, so they cannot drift).
    pub fn markdown(&self) -> String {
        let mut out = String::from("| action | from | to | who | reason | event |\n|---|---|---|---|---|---|\n");
        for t in self.transitions {
            let from: Vec<String> = t.from.iter().map(|s| format!("`{s}`")).collect();
            let roles: Vec<String> = t.roles.iter().map(|r| format!("`{}`", r.as_str())).collect();
            let to = match t.to {
                Target::To(s) => format!("`{s}`"),
                Target::Computed(how) => how.to_owned(),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | `{}` |\n",
                t.action,
                from.join(", "),
                to,
                roles.join(", "),
                if t.reason_required { "required" } else { "—" },
                t.event
            ));
        }
        out
    }

    /// Whether every action has exactly one row (for the lifecycles' unit tests).
    pub fn each_action_once(&self, actions: &[A]) -> bool {
        actions
            .iter()
            .all(|a| self.transitions.iter().filter(|t| t.action == *a).count() == 1)
            && self.transitions.len() == actions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum S {
        Open,
        Done,
    }
    impl Display for S {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(if *self == S::Open { "open" } else { "done" })
        }
    }
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum A {
        Finish,
        Reopen,
    }
    impl Display for A {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(if *self == A::Finish { "finish" } else { "reopen" })
        }
    }
    const L: Lifecycle<S, A> = Lifecycle::new(&[
        Transition {
            action: A::Finish,
            from: &[S::Open],
            to: Target::To(S::Done),
            roles: &[Role::Ministry],
            reason_required: false,
            event: "thing.finished",
        },
        Transition {
            action: A::Reopen,
            from: &[S::Done],
            to: Target::Computed("`open` again"),
            roles: &[Role::Ministry, Role::ServiceUnit],
            reason_required: true,
            event: "thing.reopened",
        },
    ]);

    #[test]
    fn checks_and_documents() {
        assert!(L.each_action_once(&[A::Finish, A::Reopen]));
        assert_eq!(L.check(S::Open, A::Finish).map(|t| t.target(S::Open)), Ok(S::Done));
        let refused = L.check(S::Open, A::Reopen).err();
        assert_eq!(
            refused,
            Some(Refused {
                from: "open".into(),
                allowed: vec!["finish".into()]
            })
        );
        assert_eq!(L.rule(A::Reopen).target(S::Open), S::Open);
        let table = L.markdown();
        assert!(table.contains(
            "| `reopen` | `done` | `open` again | `ministry`, `service_unit` | required | `thing.reopened` |"
        ));
    }
}
