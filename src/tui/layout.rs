//! Where things go on screen: plain functions shared by drawing and mouse hit-testing.

use ratatui::layout::Rect;

use super::app::Card;

/// Narrowest a card gets; four fit across at 160 columns.
pub const CARD_MIN_WIDTH: u16 = 38;
/// A card's height: border, three lines, border.
pub const CARD_HEIGHT: u16 = 5;
/// The smallest terminal the TUI draws in; below it a note is shown.
pub const MIN_SIZE: (u16, u16) = (60, 16);

/// The screen's regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// The header line.
    pub header: Rect,
    /// The card grid.
    pub grid: Rect,
    /// The selected runner's log.
    pub log: Rect,
    /// The footer line.
    pub footer: Rect,
}

/// Split the terminal: header, grid (about 55%), log, footer.
pub fn screen(size: (u16, u16)) -> Screen {
    let (w, h) = size;
    let body = h.saturating_sub(2);
    let grid_h = (body * 55 / 100).max(CARD_HEIGHT + 1).min(body);
    Screen {
        header: Rect::new(0, 0, w, 1.min(h)),
        grid: Rect::new(0, 1, w, grid_h),
        log: Rect::new(0, 1 + grid_h, w, body - grid_h),
        footer: Rect::new(0, h.saturating_sub(1), w, 1.min(h)),
    }
}

/// The grid's region for a terminal size.
pub fn grid_area(size: (u16, u16)) -> Rect {
    screen(size).grid
}

/// Cards across: as many as fit at [`CARD_MIN_WIDTH`], at most four.
pub fn columns(width: u16) -> u16 {
    (width / CARD_MIN_WIDTH).clamp(1, 4)
}

/// Something placed in the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridItem {
    /// An EXPANSION header line.
    Header {
        /// Its text.
        text: String,
        /// Where.
        rect: Rect,
    },
    /// A card.
    Card {
        /// Index into the cards.
        index: usize,
        /// Where.
        rect: Rect,
    },
}

/// Cards grouped under their EXPANSION headers, scrolled so the selected card is visible.
pub fn grid_layout(area: Rect, cards: &[Card], selected: usize) -> Vec<GridItem> {
    let cols = columns(area.width) as usize;
    let card_w = area.width / cols as u16;
    // Lay out on a virtual canvas first.
    let mut rows: Vec<(u16, GridItem)> = Vec::new();
    let mut y: u16 = 0;
    let mut col = 0usize;
    let mut group: Option<Option<u32>> = None;
    let mut selected_y = 0;
    for (index, card) in cards.iter().enumerate() {
        let key = card.expansion.as_ref().map(|e| e.0);
        if group != Some(key) {
            if col != 0 {
                y += CARD_HEIGHT;
                col = 0;
            }
            let text = match &card.expansion {
                Some((n, t)) => format!("EXPANSION {n}: {t}"),
                None => "PARTs".to_string(),
            };
            rows.push((
                y,
                GridItem::Header {
                    text,
                    rect: Rect::new(area.x, 0, area.width, 1),
                },
            ));
            y += 1;
            group = Some(key);
        }
        let rect = Rect::new(area.x + col as u16 * card_w, 0, card_w, CARD_HEIGHT);
        if index == selected {
            selected_y = y;
        }
        rows.push((y, GridItem::Card { index, rect }));
        col += 1;
        if col == cols {
            col = 0;
            y += CARD_HEIGHT;
        }
    }
    // Scroll: the selected card's row fully visible, its header too when it fits.
    let top = (selected_y + CARD_HEIGHT).saturating_sub(area.height);
    rows.into_iter()
        .filter_map(|(vy, item)| {
            let h = match &item {
                GridItem::Header { .. } => 1,
                GridItem::Card { .. } => CARD_HEIGHT,
            };
            if vy < top || vy + h > top + area.height {
                return None;
            }
            let ay = area.y + vy - top;
            Some(match item {
                GridItem::Header { text, rect } => GridItem::Header {
                    text,
                    rect: Rect { y: ay, ..rect },
                },
                GridItem::Card { index, rect } => GridItem::Card {
                    index,
                    rect: Rect { y: ay, ..rect },
                },
            })
        })
        .collect()
}
