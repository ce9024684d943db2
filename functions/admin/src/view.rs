//! How a section is shown: its heading and table lines, cut into pages that fit one Telegram
//! message (4096 characters; a section's own lines-per-page), with ◀ ▶ under the panel's
//! section buttons, and per-line buttons (a dead letter's retry) for the lines on the page.

use companion::ui::admin::Section;
use companion::ui::buttons::Button;
use runtime::telegram::ButtonRow;

use crate::charts::Chart;

/// Telegram's limit on a message's text, less room for the page marker.
const PAGE_CHARS: usize = 4096 - 64;

/// A section, rendered.
pub struct View {
    /// Which section.
    pub section: Section,
    /// Text above the table (on every page).
    pub head: String,
    /// The table's lines.
    pub lines: Vec<String>,
    /// Lines per page at most.
    pub per_page: usize,
    /// A button for a line, shown while the line is (label, callback data).
    pub line_buttons: Vec<Option<(String, String)>>,
    /// A chart to send with the first page.
    pub chart: Option<Chart>,
}

impl View {
    /// A section that is all heading.
    pub fn text(section: Section, head: String) -> Self {
        Self {
            section,
            head,
            lines: Vec::new(),
            per_page: 1,
            line_buttons: Vec::new(),
            chart: None,
        }
    }

    /// A section with a table of `lines`, `per_page` at a time.
    pub fn table(section: Section, head: String, lines: Vec<String>, per_page: usize) -> Self {
        Self {
            lines,
            per_page: per_page.max(1),
            ..Self::text(section, head)
        }
    }

    /// The pages: ranges of `lines`, each fitting one message with the heading.
    fn pages(&self) -> Vec<std::ops::Range<usize>> {
        let mut pages = Vec::new();
        let mut start = 0;
        let budget = PAGE_CHARS.saturating_sub(self.head.chars().count());
        while start < self.lines.len() {
            let (mut end, mut used) = (start, 0);
            while end < self.lines.len() && end - start < self.per_page {
                let len = self.lines[end].chars().count() + 1;
                if used + len > budget && end > start {
                    break;
                }
                used += len;
                end += 1;
            }
            pages.push(start..end);
            start = end;
        }
        if pages.is_empty() {
            pages.push(0..0);
        }
        pages
    }

    /// Page `page` (the last one when past it): its text and the keyboard under it.
    pub fn page(&self, page: u16) -> (String, Vec<ButtonRow>) {
        let pages = self.pages();
        let n = pages.len();
        let at = usize::from(page).min(n - 1);
        let range = pages[at].clone();
        let mut text = self.head.clone();
        for line in &self.lines[range.clone()] {
            let line: String = line.chars().take(PAGE_CHARS).collect();
            text.push_str(&line);
            text.push('\n');
        }
        if n > 1 {
            text.push_str(&format!("\nPage {} of {n}", at + 1));
        }
        let text: String = text.chars().take(4096).collect();
        let mut rows: Vec<ButtonRow> = self.line_buttons
            [range.start.min(self.line_buttons.len())..range.end.min(self.line_buttons.len())]
            .iter()
            .flatten()
            .map(|b| vec![b.clone()])
            .collect();
        if n > 1 {
            let to = |p: usize, label: &str| {
                (
                    label.to_owned(),
                    Button::AdminPage(self.section, p as u16).encode(),
                )
            };
            let mut nav = Vec::new();
            if at > 0 {
                nav.push(to(at - 1, "◀"));
            }
            if at + 1 < n {
                nav.push(to(at + 1, "▶"));
            }
            rows.push(nav);
        }
        rows.extend(panel());
        (text, rows)
    }
}

/// The panel's section buttons, two rows.
pub fn panel() -> Vec<ButtonRow> {
    let button = |s: Section| {
        let label = match s {
            Section::Overview => "📊 Overview",
            Section::Retention => "🔁 Retention",
            Section::Daily => "📅 Daily",
            Section::Users => "👤 Users",
            Section::Personas => "💃 Personas",
            Section::Health => "🩺 Health",
        };
        (label.to_owned(), Button::Admin(s).encode())
    };
    Section::ALL
        .chunks(3)
        .map(|row| row.iter().map(|s| button(*s)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize, len: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("{i:04}{}", "x".repeat(len)))
            .collect()
    }

    #[test]
    fn pages_hold_at_most_per_page_lines_and_fit_a_message() {
        let v = View::table(Section::Users, "Top\n\n".into(), lines(95, 30), 20);
        let (first, rows) = v.page(0);
        assert!(first.contains("0000") && first.contains("0019") && !first.contains("0020"));
        assert!(first.ends_with("Page 1 of 5"), "{first}");
        assert_eq!(rows[0], vec![("▶".to_owned(), "admp:users:1".to_owned())]);
        let (last, rows) = v.page(99);
        assert!(last.contains("0094") && last.ends_with("Page 5 of 5"));
        assert_eq!(rows[0], vec![("◀".to_owned(), "admp:users:3".to_owned())]);
        // Long lines: the characters decide.
        let v = View::table(Section::Personas, "P\n".into(), lines(40, 400), 100);
        for p in 0..v.pages().len() as u16 {
            assert!(v.page(p).0.chars().count() <= 4096);
        }
        assert!(v.pages().len() >= 4);
    }

    #[test]
    fn a_short_table_is_one_page_with_the_panel_only() {
        let v = View::table(Section::Daily, "D\n".into(), lines(3, 5), 31);
        let (text, rows) = v.page(0);
        assert!(!text.contains("Page"));
        assert_eq!(rows, panel());
        let (empty, _) = View::text(Section::Overview, "just this".into()).page(0);
        assert_eq!(empty, "just this");
    }
}
