//! The terminal: raw mode and the alternate screen entered and always left (drop, panic hook,
//! signals, suspend), and crossterm's input translated into the app's messages.

use std::io::Stdout;

use crossterm::event::{
    self as ct, Event as CtEvent, KeyCode, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use crossterm::{execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::app::Msg;
use super::keymap::Key;

/// Restore the terminal: leave raw mode and the alternate screen, show the cursor.
pub fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        ct::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// The terminal in TUI mode; dropping it restores the terminal.
pub struct Term {
    /// The ratatui terminal.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Term {
    /// Enter raw mode and the alternate screen, with mouse capture.
    pub fn enter() -> std::io::Result<Term> {
        enter_modes()?;
        let terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
            .inspect_err(|_| restore_terminal())?;
        Ok(Term { terminal })
    }

    /// Leave TUI mode for another program (the editor, the shell on suspend).
    pub fn suspend(&mut self) {
        restore_terminal();
    }

    /// Back to TUI mode; the next draw repaints everything. A fresh terminal (blank buffers
    /// on a cleared screen) rather than `Terminal::clear`, which asks the terminal for the
    /// cursor position and can miss the answer while input is being handed back.
    pub fn resume(&mut self) -> std::io::Result<()> {
        enter_modes()?;
        execute!(std::io::stdout(), terminal::Clear(terminal::ClearType::All))?;
        self.terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        Ok(())
    }

    /// Stop the process as Ctrl-Z would (the terminal restored first); returns once resumed
    /// with `fg`, TUI mode entered again.
    pub fn stop_process(&mut self) -> std::io::Result<()> {
        self.suspend();
        // SAFETY: raise() only sends a signal to this process; SIGSTOP cannot be caught, so
        // the call returns after SIGCONT.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
        self.resume()
    }
}

fn enter_modes() -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    if let Err(e) = execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        ct::EnableMouseCapture
    ) {
        restore_terminal();
        return Err(e);
    }
    Ok(())
}

impl Drop for Term {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restore the terminal before a panic message is printed, so it is readable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A runner's panic is caught and reported as a failed PART while the UI goes on; only a
        // panic of the UI's own thread ends it, and then the terminal must be readable.
        if std::thread::current().name() == Some("main") {
            restore_terminal();
            previous(info);
        } else {
            // Printed on the UI's screen it would garble it; the PART shows the failure.
            tracing::error!("{info}");
        }
    }));
}

/// A key press as the app's key, None for keys the TUI does not use.
pub fn key(k: &ct::KeyEvent) -> Option<Key> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab | KeyCode::BackTab => Key::Tab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

/// A terminal event as a message, None for events the TUI ignores.
pub fn message(ev: CtEvent) -> Option<Msg> {
    match ev {
        CtEvent::Key(k) => key(&k).map(Msg::Key),
        CtEvent::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click {
                col: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollUp => Some(Msg::Wheel {
                up: true,
                row: m.row,
            }),
            MouseEventKind::ScrollDown => Some(Msg::Wheel {
                up: false,
                row: m.row,
            }),
            _ => None,
        },
        CtEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}
