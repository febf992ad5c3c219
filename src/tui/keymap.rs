//! Keys as actions: a serde enum a `[keys]` table in expanse.toml can rebind.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// Everything a key can do.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Move the selection left.
    Left,
    /// Move the selection right.
    Right,
    /// Open the selected card: its review when a draft waits, else its log maximised.
    Open,
    /// Maximise (or restore) the log pane.
    Log,
    /// Pause or resume the selected runner.
    Pause,
    /// Pause or resume every runner.
    PauseAll,
    /// Approve the draft under review.
    Approve,
    /// Reject the draft under review (asks for a reason).
    Reject,
    /// Edit the draft in $EDITOR.
    Edit,
    /// Retry a failed PART, or redo a done one.
    Retry,
    /// Jump to the next draft awaiting review (in the log: next search match).
    Next,
    /// Previous search match in the log.
    Prev,
    /// Search the log.
    Search,
    /// Show only matching log lines.
    Filter,
    /// Follow the log's end.
    Follow,
    /// Scroll up a page.
    PageUp,
    /// Scroll down a page.
    PageDown,
    /// To the top.
    Top,
    /// To the bottom.
    Bottom,
    /// Next hunk of a diff.
    NextHunk,
    /// Previous hunk of a diff.
    PrevHunk,
    /// Switch the review tab (file / drop).
    Tab,
    /// The list of drafts awaiting review.
    Drafts,
    /// The help overlay.
    Help,
    /// Back / close.
    Back,
    /// Quit (asks first when runners are active or drafts await review).
    Quit,
}

impl Action {
    /// Every action with the help text shown in the `?` overlay.
    pub const HELP: &'static [(Action, &'static str)] = &[
        (Action::Up, "move up"),
        (Action::Down, "move down"),
        (Action::Left, "move left"),
        (Action::Right, "move right"),
        (Action::Open, "open: review the draft, or maximise the log"),
        (Action::Log, "maximise / restore the log pane"),
        (Action::Pause, "pause / resume the selected runner"),
        (Action::PauseAll, "pause / resume every runner"),
        (
            Action::Approve,
            "approve the draft (write file + drop, tick the plan)",
        ),
        (Action::Reject, "reject the draft with a reason"),
        (Action::Edit, "edit the draft in $EDITOR"),
        (Action::Retry, "retry a failed PART / redo a done one"),
        (Action::Next, "next draft awaiting review (log: next match)"),
        (Action::Prev, "log: previous match"),
        (Action::Search, "search the log"),
        (Action::Filter, "log: show only matching lines"),
        (Action::Follow, "log: follow the end"),
        (Action::PageUp, "scroll up"),
        (Action::PageDown, "scroll down"),
        (Action::Top, "to the top"),
        (Action::Bottom, "to the bottom"),
        (Action::NextHunk, "review: next hunk"),
        (Action::PrevHunk, "review: previous hunk"),
        (Action::Tab, "review: file / drop tab"),
        (Action::Drafts, "list of drafts awaiting review"),
        (Action::Help, "this help"),
        (Action::Back, "back / close"),
        (Action::Quit, "quit (drafts persist)"),
    ];
}

/// Key -> action bindings.
#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<(KeyCode, KeyModifiers), Action>,
}

/// A key binding that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown key \"{0}\" (use a character, or one of enter, esc, tab, up, down, left, right, pageup, pagedown, home, end, space, with an optional ctrl- prefix)"
)]
pub struct BadKey(pub String);

/// `"p"`, `"P"`, `"ctrl-c"`, `"enter"`, `"pagedown"` -> a key.
pub fn parse_key(s: &str) -> Result<(KeyCode, KeyModifiers), BadKey> {
    let (mods, name) = match s.strip_prefix("ctrl-") {
        Some(rest) => (KeyModifiers::CONTROL, rest),
        None => (KeyModifiers::NONE, s),
    };
    let code = match name.to_ascii_lowercase().as_str() {
        "enter" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "space" => KeyCode::Char(' '),
        _ => {
            let mut chars = name.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCode::Char(c),
                _ => return Err(BadKey(s.to_string())),
            }
        }
    };
    Ok((code, mods))
}

impl Default for Keymap {
    fn default() -> Self {
        use Action::*;
        let defaults: &[(&str, Action)] = &[
            ("up", Up),
            ("k", Up),
            ("down", Down),
            ("j", Down),
            ("left", Left),
            ("h", Left),
            ("right", Right),
            ("enter", Open),
            ("l", Log),
            ("p", Pause),
            ("P", PauseAll),
            ("a", Approve),
            ("r", Reject),
            ("e", Edit),
            ("R", Retry),
            ("n", Next),
            ("N", Prev),
            ("/", Search),
            ("f", Filter),
            ("F", Follow),
            ("end", Bottom),
            ("G", Bottom),
            ("home", Top),
            ("g", Top),
            ("pageup", PageUp),
            ("pagedown", PageDown),
            ("]", NextHunk),
            ("[", PrevHunk),
            ("tab", Tab),
            ("D", Drafts),
            ("?", Help),
            ("esc", Back),
            ("q", Quit),
            ("ctrl-c", Quit),
        ];
        let mut map = HashMap::new();
        for (k, a) in defaults {
            if let Ok(key) = parse_key(k) {
                map.insert(key, *a);
            }
        }
        Keymap { map }
    }
}

impl Keymap {
    /// The defaults with `overrides` (action -> key) applied; a rebound action loses its defaults'
    /// claim on the new key only, so `h`/`left` both keep working unless rebound.
    pub fn with_overrides(overrides: &HashMap<Action, String>) -> Result<Keymap, BadKey> {
        let mut km = Keymap::default();
        for (action, key) in overrides {
            let key = parse_key(key)?;
            km.map.insert(key, *action);
        }
        Ok(km)
    }

    /// The action for a key press.
    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        let mods = key.modifiers & KeyModifiers::CONTROL;
        self.map.get(&(key.code, mods)).copied()
    }

    /// The keys bound to `action`, for the help overlay and footer.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = self
            .map
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|((code, mods), _)| {
                let name = match code {
                    KeyCode::Char(' ') => "space".to_string(),
                    KeyCode::Char(c) => c.to_string(),
                    KeyCode::Enter => "Enter".into(),
                    KeyCode::Esc => "Esc".into(),
                    KeyCode::Tab => "Tab".into(),
                    KeyCode::Up => "↑".into(),
                    KeyCode::Down => "↓".into(),
                    KeyCode::Left => "←".into(),
                    KeyCode::Right => "→".into(),
                    KeyCode::PageUp => "PgUp".into(),
                    KeyCode::PageDown => "PgDn".into(),
                    KeyCode::Home => "Home".into(),
                    KeyCode::End => "End".into(),
                    other => format!("{other:?}"),
                };
                if mods.contains(KeyModifiers::CONTROL) {
                    format!("C-{name}")
                } else {
                    name
                }
            })
            .collect();
        keys.sort_by_key(|k| (k.chars().count(), k.clone()));
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let km = Keymap::default();
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(km.action(&key('p')), Some(Action::Pause));
        assert_eq!(
            km.action(&KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT)),
            Some(Action::PauseAll)
        );
        let mut o = HashMap::new();
        o.insert(Action::Pause, "space".to_string());
        let km = Keymap::with_overrides(&o).unwrap();
        assert_eq!(km.action(&key(' ')), Some(Action::Pause));
        assert!(km.keys_for(Action::Pause).contains(&"space".to_string()));
        o.insert(Action::Quit, "ctrl-zz".to_string());
        assert_eq!(
            Keymap::with_overrides(&o).unwrap_err(),
            BadKey("ctrl-zz".into())
        );
        let parsed: HashMap<Action, String> =
            toml::from_str("pause_all = \"A\"\nnext = \"tab\"").unwrap();
        assert_eq!(parsed[&Action::PauseAll], "A");
    }
}
