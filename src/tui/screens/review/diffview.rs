//! The review's diff view: the rows of the diff a window shows, wrapped to its width, with the
//! claim gutter, search hits and kept/left-out hunks marked.

use super::*;

/// The first row of every hunk (its header) at `width`.
pub(super) fn hunk_rows(diff: &FileDiff, width: usize) -> Vec<usize> {
    let tw = text_width(width);
    let mut row = 0;
    diff.hunks
        .iter()
        .map(|h| {
            let start = row;
            row += 1 + h
                .lines
                .iter()
                .map(|l| wrap::count(&l.text(), tw))
                .sum::<usize>();
            start
        })
        .collect()
}

/// The row of diff line `index` (counting lines across hunks) at `width`.
pub(super) fn line_row(diff: &FileDiff, width: usize, index: usize) -> usize {
    let tw = text_width(width);
    let mut row = 0;
    let mut k = 0;
    for h in &diff.hunks {
        row += 1;
        for l in &h.lines {
            if k == index {
                return row;
            }
            row += wrap::count(&l.text(), tw);
            k += 1;
        }
    }
    row
}

/// The rows of a diff visible in a window `height` rows tall scrolled to `scroll`: hunk
/// headers, numbered lines, changed words emphasised, search hits marked. Long lines (a
/// markdown paragraph is one line) wrap at word boundaries under their text. Only the visible
/// rows are built, so a redraw costs the window, not the whole diff.
/// What a diff view shows: its size and scroll, the search, and each line's claim verdict.
pub struct View<'a> {
    /// Columns.
    pub width: usize,
    /// First row shown.
    pub scroll: usize,
    /// Rows shown.
    pub height: usize,
    /// The search, lowercased ("" for none).
    pub query: &'a str,
    /// The diff line (counting across hunks) of the current search match.
    pub current: Option<usize>,
    /// New-file line -> the worst verdict of the claims starting on it.
    pub verdicts: &'a BTreeMap<usize, Verdict>,
    /// Hunks (1-based) the reviewer left out of the approval.
    pub left_out: &'a std::collections::BTreeSet<usize>,
}

/// The rows of a diff visible in a window `height` rows tall scrolled to `scroll`: hunk
/// headers, numbered lines with their claim's verdict, changed words emphasised, search hits
/// marked. Long lines (a markdown paragraph is one line) wrap at word boundaries under their
/// text. Only the visible rows are built, so a redraw costs the window, not the whole diff.
pub fn diff_view(diff: &FileDiff, theme: &Theme, v: &View) -> Vec<Line<'static>> {
    let tw = text_width(v.width);
    if diff.is_empty() {
        return vec![Line::from(Span::styled(
            "(no changes against the file on disk)",
            theme.dim,
        ))];
    }
    let total: usize = diff
        .hunks
        .iter()
        .map(|h| {
            1 + h
                .lines
                .iter()
                .map(|l| wrap::count(&l.text(), tw))
                .sum::<usize>()
        })
        .sum();
    let top = v.scroll.min(total.saturating_sub(v.height));
    let bottom = top + v.height;
    let mut out = Vec::new();
    let mut row = 0;
    let mut k = 0;
    'hunks: for (i, h) in diff.hunks.iter().enumerate() {
        if row >= bottom {
            break;
        }
        if row >= top {
            let header = format!(
                "@@ -{},{} +{},{} @@ hunk {}",
                h.old_start,
                h.old_len,
                h.new_start,
                h.new_len,
                i + 1
            );
            out.push(if v.left_out.contains(&(i + 1)) {
                Line::from(vec![
                    Span::styled(header, theme.dim),
                    Span::styled(" · left out: not written", theme.warn),
                ])
            } else {
                Line::from(Span::styled(header, theme.accent))
            });
        }
        row += 1;
        for l in &h.lines {
            let text = l.text();
            let n = wrap::count(&text, tw);
            if row + n > top && row < bottom {
                let skip = top.saturating_sub(row);
                let verdict = l.new.and_then(|n| v.verdicts.get(&n).copied());
                out.extend(
                    line_rows(l, &text, theme, tw, v.query, v.current == Some(k), verdict)
                        .into_iter()
                        .skip(skip)
                        .take(bottom - row.max(top)),
                );
            }
            row += n;
            k += 1;
            if row >= bottom {
                break 'hunks;
            }
        }
    }
    out
}

/// Each claim line's worst verdict.
pub fn verdicts_by_line(claims: &[Claim]) -> BTreeMap<usize, Verdict> {
    let mut out: BTreeMap<usize, Verdict> = BTreeMap::new();
    for c in claims {
        let e = out.entry(c.line).or_insert(c.verdict);
        *e = (*e).max(c.verdict);
    }
    out
}

pub(super) fn verdict_style(theme: &Theme, v: Verdict) -> Style {
    match v {
        Verdict::Supported => theme.good,
        Verdict::Weak | Verdict::Uncited => theme.warn,
        Verdict::Unsupported => theme.bad,
    }
}

/// The index (counting across hunks) of the diff line showing new-file line `line`.
pub(super) fn diff_index_of_new_line(diff: &FileDiff, line: usize) -> Option<usize> {
    diff.hunks
        .iter()
        .flat_map(|h| &h.lines)
        .position(|l| l.new == Some(line))
}

/// One diff line as its wrapped rows.
pub(super) fn line_rows(
    l: &DiffLine,
    text: &str,
    theme: &Theme,
    tw: usize,
    query: &str,
    current: bool,
    verdict: Option<Verdict>,
) -> Vec<Line<'static>> {
    let (sign, style) = match l.tag {
        LineTag::Equal => (' ', theme.text),
        LineTag::Insert => ('+', theme.good),
        LineTag::Delete => ('-', theme.bad),
    };
    // Styled runs: changed words emphasised, then search hits over them.
    let mut runs: Vec<(std::ops::Range<usize>, Style)> = Vec::new();
    let mut at = 0;
    for s in &l.segments {
        let st = if s.emphasized {
            style.patch(theme.emph)
        } else {
            style
        };
        runs.push((at..at + s.text.len(), st));
        at += s.text.len();
    }
    if !query.is_empty() {
        let hit = if current {
            theme.hit.add_modifier(Modifier::BOLD)
        } else {
            theme.hit
        };
        let marks = highlight(text, query, Style::default(), hit);
        runs = overlay_runs(&runs, &marks, hit);
    }
    let num = |n: Option<usize>| n.map_or("    ".to_string(), |n| format!("{n:>4}"));
    wrap::rows(text, tw)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = if i == 0 {
                vec![
                    Span::styled(format!("{} {} ", num(l.old), num(l.new)), theme.dim),
                    Span::styled(sign.to_string(), style),
                    match verdict {
                        Some(v) => Span::styled(v.glyph().to_string(), verdict_style(theme, v)),
                        None => Span::raw(" "),
                    },
                ]
            } else {
                vec![Span::raw(" ".repeat(GUTTER))]
            };
            row.extend(cut(text, &runs, r));
            Line::from(row)
        })
        .collect()
}

/// `base` runs with the ranges `marks` styled `hit` replaced by `hit`.
pub(super) fn overlay_runs(
    base: &[(std::ops::Range<usize>, Style)],
    marks: &[(std::ops::Range<usize>, Style)],
    hit: Style,
) -> Vec<(std::ops::Range<usize>, Style)> {
    let hits: Vec<&std::ops::Range<usize>> = marks
        .iter()
        .filter(|(_, s)| *s == hit)
        .map(|(r, _)| r)
        .collect();
    let mut out = Vec::new();
    for (r, st) in base {
        let mut at = r.start;
        for h in &hits {
            let s = h.start.max(at);
            let e = h.end.min(r.end);
            if s >= e {
                continue;
            }
            if at < s {
                out.push((at..s, *st));
            }
            out.push((s..e, hit));
            at = e;
        }
        if at < r.end {
            out.push((at..r.end, *st));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_window_is_exactly_that_slice_of_the_whole_diff() {
        let theme = Theme::new(true);
        let old: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..40)
            .map(|i| {
                if i % 7 == 3 {
                    format!("line {i} {}\n", "a long changed paragraph ".repeat(9))
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        let d = crate::review::diff(Some(&old), &new, "x.md");
        let render = |lines: Vec<Line>| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let none = BTreeMap::new();
        let kept = std::collections::BTreeSet::new();
        let view = |scroll, height| View {
            width: 60,
            scroll,
            height,
            query: "",
            current: None,
            verdicts: &none,
            left_out: &kept,
        };
        let whole = render(diff_view(&d, &theme, &view(0, 1_000_000)));
        assert!(whole.len() > 40, "long lines wrap: {}", whole.len());
        assert!(
            whole.iter().all(|r| !r.ends_with("paragrap")),
            "rows break between words"
        );
        for (scroll, height) in [
            (0, 5),
            (3, 7),
            (10, 1),
            (17, 20),
            (whole.len() - 4, 4),
            (10_000, 6),
        ] {
            let window = render(diff_view(&d, &theme, &view(scroll, height)));
            let top = scroll.min(whole.len() - height);
            assert_eq!(
                window,
                whole[top..top + height],
                "scroll {scroll}, height {height}"
            );
        }
        for r in hunk_rows(&d, 60) {
            assert!(whole[r].starts_with("@@"), "{}", whole[r]);
        }
    }

    #[test]
    fn code_keeps_its_indentation_in_the_diff() {
        let theme = Theme::new(true);
        let d = crate::review::diff(
            None,
            "def embed(batch):\n    import torch\n        self.n = 0\n",
            "x.md",
        );
        let none = BTreeMap::new();
        let kept = std::collections::BTreeSet::new();
        let rows: Vec<String> = diff_view(
            &d,
            &theme,
            &View {
                width: 80,
                scroll: 0,
                height: 10,
                query: "",
                current: None,
                verdicts: &none,
                left_out: &kept,
            },
        )
        .iter()
        .map(|l| l.to_string())
        .collect();
        assert!(rows[2].ends_with("+     import torch"), "{rows:?}");
        assert!(rows[3].ends_with("+         self.n = 0"), "{rows:?}");
    }

    #[test]
    fn search_hits_keep_the_text_and_mark_the_words() {
        let theme = Theme::new(false);
        let d = crate::review::diff(None, "alpha ZeRO beta\nnothing\nzero again\n", "x.md");
        let verdicts = BTreeMap::from([(1, Verdict::Unsupported)]);
        let rows = diff_view(
            &d,
            &theme,
            &View {
                width: 80,
                scroll: 0,
                height: 10,
                query: "zero",
                current: None,
                verdicts: &verdicts,
                left_out: &std::collections::BTreeSet::new(),
            },
        );
        let text: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert!(text[1].ends_with("+✗alpha ZeRO beta"), "{text:?}");
        assert!(
            text[2].ends_with("+ nothing"),
            "no claim, no glyph: {text:?}"
        );
        let marked: usize = rows
            .iter()
            .flat_map(|l| &l.spans)
            .filter(|s| s.style == theme.hit)
            .count();
        assert_eq!(marked, 2);
    }
}
