//! Where things go on screen: plain functions shared by drawing, movement and mouse hit-testing.

use ratatui::layout::Rect;

use super::cards::Card;

/// Narrowest a card gets; four fit across at 160 columns, two at 80.
pub const CARD_MIN_WIDTH: u16 = 38;
/// A card's height: border, three lines, border.
pub const CARD_HEIGHT: u16 = 5;
/// The smallest terminal the TUI draws in; below it a note is shown.
pub const MIN_SIZE: (u16, u16) = (60, 16);
/// Below this width the review's checklist goes under the diff instead of beside it.
pub const REVIEW_SIDE_BY_SIDE: u16 = 120;

/// The screen's regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// The header line.
    pub header: Rect,
    /// Everything between header and key bar.
    pub body: Rect,
    /// The card grid (grid screen).
    pub grid: Rect,
    /// The selected runner's log (grid screen).
    pub log: Rect,
    /// The key bar.
    pub footer: Rect,
}

/// Split the terminal: header, body (grid about 55% over the log), key bar.
pub fn screen(size: (u16, u16)) -> Screen {
    let (w, h) = size;
    let body_h = h.saturating_sub(2);
    let grid_h = (body_h * 55 / 100).max(CARD_HEIGHT + 2).min(body_h);
    Screen {
        header: Rect::new(0, 0, w, 1.min(h)),
        body: Rect::new(0, 1, w, body_h),
        grid: Rect::new(0, 1, w, grid_h),
        log: Rect::new(0, 1 + grid_h, w, body_h - grid_h),
        footer: Rect::new(0, h.saturating_sub(1), w, 1.min(h)),
    }
}

/// Cards across: as many as fit at [`CARD_MIN_WIDTH`], at most four.
pub fn columns(width: u16) -> u16 {
    (width / CARD_MIN_WIDTH).clamp(1, 4)
}

/// Something placed on the grid's virtual canvas (y counts from the canvas's top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// An EXPANSION header line.
    Header {
        /// Its text.
        text: String,
        /// Canvas row.
        y: u16,
    },
    /// A card.
    Card {
        /// Index into the cards.
        index: usize,
        /// Canvas row of its top border.
        y: u16,
        /// Its column.
        col: u16,
    },
}

impl Placed {
    fn y(&self) -> u16 {
        match self {
            Placed::Header { y, .. } | Placed::Card { y, .. } => *y,
        }
    }

    fn height(&self) -> u16 {
        match self {
            Placed::Header { .. } => 1,
            Placed::Card { .. } => CARD_HEIGHT,
        }
    }
}

/// Cards grouped under their EXPANSION headers on a canvas as wide as the grid.
pub fn place(width: u16, cards: &[Card]) -> Vec<Placed> {
    let cols = columns(width);
    let mut out = Vec::with_capacity(cards.len() + 8);
    let mut y: u16 = 0;
    let mut col = 0u16;
    // The EXPANSION of the cards so far (None: PARTs under none); the first card opens a group.
    let mut group: Option<u32> = None;
    for (index, card) in cards.iter().enumerate() {
        let key = card.expansion.as_ref().map(|e| e.0);
        if index == 0 || group != key {
            if col != 0 {
                y = y.saturating_add(CARD_HEIGHT);
                col = 0;
            }
            let text = match &card.expansion {
                Some((n, t)) => format!("EXPANSION {n}: {t}"),
                None => "PARTs".to_string(),
            };
            out.push(Placed::Header { text, y });
            y = y.saturating_add(1);
            group = key;
        }
        out.push(Placed::Card { index, y, col });
        col += 1;
        if col == cols {
            col = 0;
            y = y.saturating_add(CARD_HEIGHT);
        }
    }
    out
}

/// The canvas's height.
pub fn canvas_height(placed: &[Placed]) -> u16 {
    placed
        .iter()
        .map(|p| p.y().saturating_add(p.height()))
        .max()
        .unwrap_or(0)
}

/// Rows of the grid that show the canvas; one row less than the grid when the canvas does not
/// fit, for the line saying how many cards are hidden.
pub fn viewport(area: Rect, placed: &[Placed]) -> u16 {
    if canvas_height(placed) > area.height {
        area.height.saturating_sub(1)
    } else {
        area.height
    }
}

/// The scroll that keeps card `selected` (and its header, when it fits) in view, moving as
/// little as possible from `scroll`.
pub fn follow(placed: &[Placed], selected: usize, view: u16, scroll: u16) -> u16 {
    let Some((y, _)) = card_pos(placed, selected) else {
        return scroll;
    };
    let max = canvas_height(placed).saturating_sub(view);
    let scroll = scroll.min(max);
    if y < scroll {
        // Show the EXPANSION header right above the card's row too.
        let header_above = placed
            .iter()
            .any(|p| matches!(p, Placed::Header { y: hy, .. } if hy + 1 == y));
        y.saturating_sub(u16::from(header_above))
    } else if y + CARD_HEIGHT > scroll + view {
        (y + CARD_HEIGHT).saturating_sub(view).min(max)
    } else {
        scroll
    }
}

/// Clamp a scroll to the canvas.
pub fn clamp_scroll(placed: &[Placed], view: u16, scroll: u16) -> u16 {
    scroll.min(canvas_height(placed).saturating_sub(view))
}

fn card_pos(placed: &[Placed], index: usize) -> Option<(u16, u16)> {
    placed.iter().find_map(|p| match p {
        Placed::Card { index: i, y, col } if *i == index => Some((*y, *col)),
        _ => None,
    })
}

/// Which way the selection moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The card above (same column, or the nearest one left of it).
    Up,
    /// The card below.
    Down,
    /// The previous card.
    Left,
    /// The next card.
    Right,
}

/// The card the selection moves to from `from`, as the grid shows them.
pub fn neighbour(placed: &[Placed], from: usize, dir: Direction, count: usize) -> usize {
    let Some((y, col)) = card_pos(placed, from) else {
        return from;
    };
    let rows = |pick: &dyn Fn(u16) -> bool| -> Option<u16> {
        let mut ys: Vec<u16> = placed
            .iter()
            .filter_map(|p| match p {
                Placed::Card { y: cy, .. } if pick(*cy) => Some(*cy),
                _ => None,
            })
            .collect();
        ys.sort_unstable();
        ys.dedup();
        match dir {
            Direction::Up => ys.last().copied(),
            _ => ys.first().copied(),
        }
    };
    let in_row = |row: u16| -> usize {
        // The card of that row in this column, or the last one left of it.
        placed
            .iter()
            .filter_map(|p| match p {
                Placed::Card {
                    index,
                    y: cy,
                    col: c,
                } if *cy == row && *c <= col => Some((*c, *index)),
                _ => None,
            })
            .max()
            .map_or(from, |(_, i)| i)
    };
    match dir {
        Direction::Left => from.saturating_sub(1),
        Direction::Right => (from + 1).min(count.saturating_sub(1)),
        Direction::Up => rows(&|cy| cy < y).map_or(from, in_row),
        Direction::Down => rows(&|cy| cy > y).map_or(from, in_row),
    }
}

/// Something drawn in the grid's area.
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
    /// The line saying how many cards are out of view.
    More {
        /// Cards above the view.
        above: usize,
        /// Cards below the view.
        below: usize,
        /// Where.
        rect: Rect,
    },
}

/// What the grid shows in `area` scrolled to `scroll`: only whole cards, and a line counting
/// the hidden ones when any are.
pub fn visible(area: Rect, placed: &[Placed], scroll: u16) -> Vec<GridItem> {
    let cols = columns(area.width);
    let card_w = area.width / cols;
    let view = viewport(area, placed);
    let scroll = clamp_scroll(placed, view, scroll);
    let (mut above, mut below) = (0, 0);
    let mut out = Vec::new();
    for p in placed {
        let (y, h) = (p.y(), p.height());
        if y < scroll || y + h > scroll + view {
            if let Placed::Card { .. } = p {
                if y < scroll {
                    above += 1;
                } else {
                    below += 1;
                }
            }
            continue;
        }
        let ay = area.y + y - scroll;
        out.push(match p {
            Placed::Header { text, .. } => GridItem::Header {
                text: text.clone(),
                rect: Rect::new(area.x, ay, area.width, 1),
            },
            Placed::Card { index, col, .. } => GridItem::Card {
                index: *index,
                rect: Rect::new(area.x + col * card_w, ay, card_w, CARD_HEIGHT),
            },
        });
    }
    if view < area.height {
        out.push(GridItem::More {
            above,
            below,
            rect: Rect::new(area.x, area.y + view, area.width, 1),
        });
    }
    out
}

/// What a frame put where: the rectangles a click is tested against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drawn {
    /// Each card drawn on the grid: its index and rectangle.
    pub cards: Vec<(usize, Rect)>,
}

impl Drawn {
    /// The card drawn under (`col`, `row`), if any.
    pub fn card_at(&self, col: u16, row: u16) -> Option<usize> {
        let at = ratatui::layout::Position::new(col, row);
        self.cards
            .iter()
            .find_map(|(index, rect)| rect.contains(at).then_some(*index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::tui::cards::Cards;

    fn cards() -> Cards {
        // Two EXPANSIONs: 3 PARTs then 4.
        let mut s = String::from("# P\n\n## EXPANSION 1: One\n\n");
        for n in 1..=7 {
            if n == 4 {
                s.push_str("## EXPANSION 2: Two\n\n");
            }
            s.push_str(&format!(
                "### PART {n}: Create a/{n:02}-t.md\n\n- [ ] PART {n}: Create a/{n:02}-t.md\n\n"
            ));
        }
        Cards::new(&Plan::parse(&s), None)
    }

    #[test]
    fn down_goes_to_the_card_below_across_groups() {
        let c = cards();
        // 2 columns at 80: [1 2] [3 .] | [4 5] [6 7]
        let placed = place(80, &c.list);
        let n = c.list.len();
        assert_eq!(neighbour(&placed, 0, Direction::Down, n), 2);
        assert_eq!(
            neighbour(&placed, 1, Direction::Down, n),
            2,
            "nearest on the left"
        );
        assert_eq!(neighbour(&placed, 2, Direction::Down, n), 3);
        assert_eq!(neighbour(&placed, 4, Direction::Up, n), 2);
        assert_eq!(neighbour(&placed, 6, Direction::Up, n), 4);
        assert_eq!(neighbour(&placed, 6, Direction::Down, n), 6);
        assert_eq!(neighbour(&placed, 6, Direction::Right, n), 6);
        assert_eq!(neighbour(&placed, 3, Direction::Left, n), 2);
    }

    #[test]
    fn hidden_cards_are_counted_and_never_cut() {
        let c = cards();
        let placed = place(80, &c.list);
        let area = Rect::new(0, 1, 80, 12);
        let items = visible(area, &placed, 0);
        let shown = items
            .iter()
            .filter(|i| matches!(i, GridItem::Card { .. }))
            .count();
        assert_eq!(shown, 3);
        assert!(items.iter().any(|i| matches!(
            i,
            GridItem::More {
                above: 0,
                below: 4,
                ..
            }
        )));
        for i in &items {
            if let GridItem::Card { rect, .. } = i {
                assert!(rect.y + rect.height < area.y + area.height);
            }
        }
        let view = viewport(area, &placed);
        let s = follow(&placed, 6, view, 0);
        let items = visible(area, &placed, s);
        assert!(
            items
                .iter()
                .any(|i| matches!(i, GridItem::Card { index: 6, .. }))
        );
    }
}
