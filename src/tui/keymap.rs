//! Keys as actions, per screen: a key means one Action on each screen, each Action's description
//! is the one text for the help overlay, the key bar and the README, and `[keys]` rebinds them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A key press as the TUI sees it (the terminal layer translates crossterm's events to this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A printable character (shifted letters arrive as upper case).
    Char(char),
    /// A character with Ctrl held.
    Ctrl(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Tab.
    Tab,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
}

impl Key {
    /// How the help and the key bar write the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("C-{c}"),
            Key::Enter => "Enter".into(),
            Key::Esc => "Esc".into(),
            Key::Tab => "Tab".into(),
            Key::Backspace => "Bksp".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
        }
    }
}

/// The screens, each with its own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScreenKind {
    /// The cards and the selected runner's log.
    Grid,
    /// The selected runner's log, maximised.
    Log,
    /// A draft's diff and checklist.
    Review,
    /// The drafts awaiting review.
    Drafts,
}

impl ScreenKind {
    /// Every screen.
    pub const ALL: [ScreenKind; 4] = [
        ScreenKind::Grid,
        ScreenKind::Log,
        ScreenKind::Review,
        ScreenKind::Drafts,
    ];

    /// The screen's name in the help.
    pub fn name(self) -> &'static str {
        match self {
            ScreenKind::Grid => "grid",
            ScreenKind::Log => "log",
            ScreenKind::Review => "review",
            ScreenKind::Drafts => "drafts",
        }
    }
}

/// Everything a key can do. Which keys do what depends on the screen ([`Keymap::defaults`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Move up (grid: the card above; lists: the row above; text: scroll).
    Up,
    /// Move down.
    Down,
    /// Move left.
    Left,
    /// Move right.
    Right,
    /// Open the selected card or row.
    Open,
    /// Maximise or restore the log pane.
    Log,
    /// Pause or resume the selected runner.
    Pause,
    /// Pause or resume every runner.
    PauseAll,
    /// Approve the draft.
    Approve,
    /// Reject the draft with a reason.
    Reject,
    /// Edit the file or drop shown in `$EDITOR`.
    Edit,
    /// Retry a failed PART, or redo a done one.
    Retry,
    /// Next draft awaiting review, or the next search match.
    Next,
    /// The previous search match.
    Prev,
    /// Search.
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
    /// Next hunk of the diff.
    NextHunk,
    /// Previous hunk of the diff.
    PrevHunk,
    /// Keep or leave out the hunk at the top of the view.
    ToggleHunk,
    /// Scroll the checklist (and the evidence) down.
    SideDown,
    /// Scroll the checklist (and the evidence) up.
    SideUp,
    /// Next claim its source does not support.
    NextClaim,
    /// Previous claim its source does not support.
    PrevClaim,
    /// Show or hide the selected claim's evidence.
    Evidence,
    /// Write one section again with a reason.
    Regenerate,
    /// Undo an approval.
    Undo,
    /// A note to the selected runner.
    Note,
    /// Switch between the file and its drop.
    Tab,
    /// The drafts awaiting review.
    Drafts,
    /// Every key of this screen.
    Help,
    /// The messages shown at the bottom so far, whole.
    Messages,
    /// Back, or clear the search.
    Back,
    /// Quit: stop the run (asks when work is pending).
    Quit,
    /// Close this screen and leave the run going.
    Detach,
    /// Suspend to the shell (`fg` resumes).
    Suspend,
}

impl Action {
    /// What the action does, as the help, the key bar and the README say it.
    pub fn description(self) -> &'static str {
        match self {
            Action::Up => "move up",
            Action::Down => "move down",
            Action::Left => "move left",
            Action::Right => "move right",
            Action::Open => "open: the review of a draft, else the log maximised",
            Action::Log => "maximise / restore the log",
            Action::Pause => "pause / resume the selected runner",
            Action::PauseAll => "pause / resume every runner",
            Action::Approve => "approve: write the file and drop, tick the plan",
            Action::Reject => "reject with a reason (Tab: write again or skip)",
            Action::Edit => "edit the file (or the drop, on its tab) in $EDITOR",
            Action::Retry => "retry a failed PART, redo a done or approved one",
            Action::Next => "next draft awaiting review; with a search, next match",
            Action::Prev => "previous search match",
            Action::Search => "search (matches highlighted)",
            Action::Filter => "show only matching lines",
            Action::Follow => "follow the end of the log",
            Action::PageUp => "scroll up a page",
            Action::PageDown => "scroll down a page",
            Action::Top => "to the top",
            Action::Bottom => "to the bottom",
            Action::NextHunk => "next hunk",
            Action::PrevHunk => "previous hunk",
            Action::ToggleHunk => {
                "keep / leave out the hunk at the top (approve writes the kept ones)"
            }
            Action::SideDown => "scroll the checklist and evidence down",
            Action::SideUp => "scroll the checklist and evidence up",
            Action::NextClaim => "next claim not supported by its source",
            Action::PrevClaim => "previous claim not supported by its source",
            Action::Evidence => "show / hide the claim's evidence from its source",
            Action::Regenerate => "write one section again, with a reason",
            Action::Undo => "undo an approval (files back as they were)",
            Action::Note => "a note to the runner: sections not yet written get it",
            Action::Tab => "file / drop",
            Action::Drafts => "the drafts awaiting review",
            Action::Help => "every key of this screen",
            Action::Messages => "the messages so far, whole (the bottom line cuts them)",
            Action::Back => "back (or clear the search)",
            Action::Quit => "quit: stop the run (asks when work is pending)",
            Action::Detach => "detach: leave the run going, close this screen",
            Action::Suspend => "suspend to the shell (fg resumes)",
        }
    }

    /// A one- or two-word label for the key bar.
    pub fn short(self) -> &'static str {
        match self {
            Action::Open => "open",
            Action::Log => "log",
            Action::Pause => "pause",
            Action::PauseAll => "pause all",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Edit => "edit",
            Action::Retry => "retry",
            Action::Next => "next",
            Action::Prev => "prev",
            Action::Search => "search",
            Action::Filter => "filter",
            Action::Follow => "follow",
            Action::NextHunk => "hunk",
            Action::PrevHunk => "hunk back",
            Action::ToggleHunk => "keep hunk",
            Action::NextClaim => "claim",
            Action::PrevClaim => "claim back",
            Action::Evidence => "evidence",
            Action::Regenerate => "section",
            Action::Undo => "undo",
            Action::Note => "note",
            Action::Tab => "file/drop",
            Action::Drafts => "drafts",
            Action::Help => "help",
            Action::Messages => "messages",
            Action::Back => "back",
            Action::Quit => "quit",
            Action::Detach => "detach",
            _ => "",
        }
    }
}

/// An action's name in expanse.toml's `[keys]` (`pause_all`).
fn toml_name(a: Action) -> String {
    toml::Value::try_from(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The default bindings of each screen, in the order the help lists them.
fn defaults(screen: ScreenKind) -> Vec<(Action, &'static [Key])> {
    use Action::*;
    const UP: &[Key] = &[Key::Up, Key::Char('k')];
    const DOWN: &[Key] = &[Key::Down, Key::Char('j')];
    const PGUP: &[Key] = &[Key::PageUp];
    const PGDN: &[Key] = &[Key::PageDown];
    const TOP: &[Key] = &[Key::Home, Key::Char('g')];
    const BOTTOM: &[Key] = &[Key::End, Key::Char('G')];
    const HELP: &[Key] = &[Key::Char('?')];
    const QUIT: &[Key] = &[Key::Char('q'), Key::Ctrl('c')];
    const SUSPEND: &[Key] = &[Key::Ctrl('z')];
    const DETACH: &[Key] = &[Key::Char('d')];
    match screen {
        ScreenKind::Grid => vec![
            (Open, &[Key::Enter]),
            (Up, UP),
            (Down, DOWN),
            (Left, &[Key::Left, Key::Char('h')]),
            (Right, &[Key::Right]),
            (Pause, &[Key::Char('p')]),
            (PauseAll, &[Key::Char('P')]),
            (Next, &[Key::Char('n')]),
            (Drafts, &[Key::Char('D')]),
            (Retry, &[Key::Char('R')]),
            (Undo, &[Key::Char('u')]),
            (Note, &[Key::Char('m')]),
            (Log, &[Key::Char('l')]),
            (Search, &[Key::Char('/')]),
            (Prev, &[Key::Char('N')]),
            (Filter, &[Key::Char('f')]),
            (Follow, &[Key::Char('F')]),
            (PageUp, PGUP),
            (PageDown, PGDN),
            (Top, TOP),
            (Bottom, BOTTOM),
            (Back, &[Key::Esc]),
            (Messages, &[Key::Char('M')]),
            (Help, HELP),
            (Quit, QUIT),
            (Detach, DETACH),
            (Suspend, SUSPEND),
        ],
        ScreenKind::Log => vec![
            (Back, &[Key::Esc, Key::Char('l')]),
            (Search, &[Key::Char('/')]),
            (Next, &[Key::Char('n')]),
            (Prev, &[Key::Char('N')]),
            (Filter, &[Key::Char('f')]),
            (Follow, &[Key::Char('F')]),
            (Up, UP),
            (Down, DOWN),
            (PageUp, PGUP),
            (PageDown, PGDN),
            (Top, TOP),
            (Bottom, BOTTOM),
            (Pause, &[Key::Char('p')]),
            (Messages, &[Key::Char('M')]),
            (Help, HELP),
            (Quit, QUIT),
            (Detach, DETACH),
            (Suspend, SUSPEND),
        ],
        ScreenKind::Review => vec![
            (Approve, &[Key::Char('a')]),
            (Reject, &[Key::Char('r')]),
            (Edit, &[Key::Char('e')]),
            (Tab, &[Key::Tab]),
            (NextClaim, &[Key::Char(']')]),
            (PrevClaim, &[Key::Char('[')]),
            (Evidence, &[Key::Char('v')]),
            (Regenerate, &[Key::Char('s')]),
            (NextHunk, &[Key::Char('}')]),
            (PrevHunk, &[Key::Char('{')]),
            (ToggleHunk, &[Key::Char(' ')]),
            (SideDown, &[Key::Char('J')]),
            (SideUp, &[Key::Char('K')]),
            (Search, &[Key::Char('/')]),
            (Next, &[Key::Char('n')]),
            (Prev, &[Key::Char('N')]),
            (Up, UP),
            (Down, DOWN),
            (PageUp, PGUP),
            (PageDown, PGDN),
            (Top, TOP),
            (Bottom, BOTTOM),
            (Back, &[Key::Esc]),
            (Messages, &[Key::Char('M')]),
            (Help, HELP),
            (Quit, QUIT),
            (Detach, DETACH),
            (Suspend, SUSPEND),
        ],
        ScreenKind::Drafts => vec![
            (Open, &[Key::Enter]),
            (Up, UP),
            (Down, DOWN),
            (Back, &[Key::Esc, Key::Char('D')]),
            (Messages, &[Key::Char('M')]),
            (Help, HELP),
            (Quit, QUIT),
            (Detach, DETACH),
            (Suspend, SUSPEND),
        ],
    }
}

/// Key -> action bindings, one list per screen, preferred keys first (a rebinding from
/// `[keys]` first of all): the key bar shows an action's first key.
#[derive(Debug, Clone)]
pub struct Keymap {
    screens: HashMap<ScreenKind, Vec<(Key, Action)>>,
    order: HashMap<ScreenKind, Vec<Action>>,
}

/// A key binding that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown key \"{0}\" (use a character, or one of enter, esc, tab, backspace, up, down, left, right, pageup, pagedown, home, end, space, with an optional ctrl- prefix)"
)]
pub struct BadKey(pub String);

/// `"p"`, `"P"`, `"ctrl-c"`, `"enter"`, `"pagedown"` -> a key.
pub fn parse_key(s: &str) -> Result<Key, BadKey> {
    if let Some(rest) = s.strip_prefix("ctrl-") {
        let mut chars = rest.chars();
        return match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Ok(Key::Ctrl(c.to_ascii_lowercase())),
            _ => Err(BadKey(s.to_string())),
        };
    }
    Ok(match s.to_ascii_lowercase().as_str() {
        "enter" => Key::Enter,
        "esc" | "escape" => Key::Esc,
        "tab" => Key::Tab,
        "backspace" => Key::Backspace,
        "up" => Key::Up,
        "down" => Key::Down,
        "left" => Key::Left,
        "right" => Key::Right,
        "pageup" => Key::PageUp,
        "pagedown" => Key::PageDown,
        "home" => Key::Home,
        "end" => Key::End,
        "space" => Key::Char(' '),
        _ => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => Key::Char(c),
                _ => return Err(BadKey(s.to_string())),
            }
        }
    })
}

impl Default for Keymap {
    fn default() -> Self {
        let mut screens = HashMap::new();
        let mut order = HashMap::new();
        for screen in ScreenKind::ALL {
            let mut bindings = Vec::new();
            let mut actions = Vec::new();
            for (action, keys) in defaults(screen) {
                actions.push(action);
                bindings.extend(keys.iter().map(|k| (*k, action)));
            }
            screens.insert(screen, bindings);
            order.insert(screen, actions);
        }
        Keymap { screens, order }
    }
}

impl Keymap {
    /// The defaults with `overrides` (action -> key) applied on every screen that has the
    /// action: the new key means it there (instead of what that key did before); the action's
    /// default keys keep working.
    pub fn with_overrides(overrides: &HashMap<Action, String>) -> Result<Keymap, BadKey> {
        let mut km = Keymap::default();
        for (action, key) in overrides {
            let key = parse_key(key)?;
            for (screen, bindings) in km.screens.iter_mut() {
                if km.order.get(screen).is_some_and(|o| o.contains(action)) {
                    bindings.retain(|(k, _)| *k != key);
                    bindings.insert(0, (key, *action));
                }
            }
        }
        Ok(km)
    }

    /// What `overrides` take away: each default key another action's override now holds
    /// (`approve = "q"` takes q from quit on the review screen), said in words with what the
    /// action keeps. Empty when no override takes a key.
    pub fn taken_keys(&self, overrides: &HashMap<Action, String>) -> Vec<String> {
        let defaults = Keymap::default();
        let mut out = Vec::new();
        for screen in ScreenKind::ALL {
            for action in defaults.actions(screen) {
                for k in defaults.keys_for(screen, *action) {
                    let Ok(key) = parse_key(&k) else { continue };
                    let Some(by) = self.action(screen, key).filter(|by| by != action) else {
                        continue;
                    };
                    let left = self.keys_for(screen, *action);
                    out.push(format!(
                        "[keys] {} = \"{}\" takes {k} from \"{}\" on the {} screen ({})",
                        toml_name(by),
                        overrides.get(&by).map_or("", String::as_str),
                        action.description(),
                        screen.name(),
                        if left.is_empty() {
                            "it has no key left there".to_string()
                        } else {
                            format!("it keeps {}", left.join(", "))
                        }
                    ));
                }
            }
        }
        out
    }

    /// The action of `key` on `screen`.
    pub fn action(&self, screen: ScreenKind, key: Key) -> Option<Action> {
        self.screens
            .get(&screen)?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, a)| *a)
    }

    /// The actions of a screen, in help order.
    pub fn actions(&self, screen: ScreenKind) -> &[Action] {
        self.order.get(&screen).map_or(&[], Vec::as_slice)
    }

    /// The keys bound to `action` on `screen`, the preferred one first.
    pub fn keys_for(&self, screen: ScreenKind, action: Action) -> Vec<String> {
        self.screens
            .get(&screen)
            .into_iter()
            .flatten()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k.label())
            .collect()
    }

    /// The key table of every screen in markdown, as the README prints it.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for screen in ScreenKind::ALL {
            out.push_str(&format!(
                "\n**{}**\n\n| key | does |\n|---|---|\n",
                screen.name()
            ));
            for a in self.actions(screen) {
                let keys: Vec<String> = self
                    .keys_for(screen, *a)
                    .into_iter()
                    .map(|k| format!("`{k}`"))
                    .collect();
                out.push_str(&format!("| {} | {} |\n", keys.join(" "), a.description()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_means_one_action_per_screen_and_overrides_rebind_it() {
        let km = Keymap::default();
        assert_eq!(
            km.action(ScreenKind::Grid, Key::Char('p')),
            Some(Action::Pause)
        );
        assert_eq!(
            km.action(ScreenKind::Grid, Key::Char('a')),
            None,
            "approve is a review key only"
        );
        assert_eq!(
            km.action(ScreenKind::Review, Key::Char('a')),
            Some(Action::Approve)
        );
        assert_eq!(km.action(ScreenKind::Review, Key::Char('p')), None);
        let mut o = HashMap::new();
        o.insert(Action::Pause, "space".to_string());
        let km = Keymap::with_overrides(&o).unwrap();
        assert_eq!(
            km.action(ScreenKind::Grid, Key::Char(' ')),
            Some(Action::Pause)
        );
        assert_eq!(
            km.action(ScreenKind::Review, Key::Char(' ')),
            Some(Action::ToggleHunk),
            "rebinding pause leaves the review screen's space alone"
        );
        let mut quitting = HashMap::new();
        quitting.insert(Action::Approve, "q".to_string());
        let taken = Keymap::with_overrides(&quitting)
            .unwrap()
            .taken_keys(&quitting);
        assert_eq!(
            taken,
            [
                "[keys] approve = \"q\" takes q from \"quit: stop the run (asks when work is pending)\" on the review screen (it keeps C-c)"
            ]
        );
        assert!(
            km.keys_for(ScreenKind::Grid, Action::Pause)
                .contains(&"space".to_string())
        );
        o.insert(Action::Quit, "ctrl-zz".to_string());
        assert_eq!(
            Keymap::with_overrides(&o).unwrap_err(),
            BadKey("ctrl-zz".into())
        );
        let parsed: HashMap<Action, String> =
            toml::from_str("pause_all = \"A\"\nnext = \"tab\"").unwrap();
        assert_eq!(parsed[&Action::PauseAll], "A");
    }

    #[test]
    fn every_screen_can_be_left_and_helped() {
        let km = Keymap::default();
        for s in ScreenKind::ALL {
            assert!(!km.keys_for(s, Action::Help).is_empty(), "{s:?}");
            assert!(!km.keys_for(s, Action::Quit).is_empty(), "{s:?}");
            for a in km.actions(s) {
                assert!(!a.description().is_empty());
                assert!(!km.keys_for(s, *a).is_empty(), "{s:?} {a:?} has no key");
            }
        }
    }
}
