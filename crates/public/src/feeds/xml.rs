//! A very small XML writer for the feeds.
//!
//! Written here rather than taken from quick-xml because the feeds only ever need elements,
//! attributes and text, always written in order: escaping five characters and dropping the few
//! code points XML 1.0 cannot carry is all there is to get right, and it is tested below. A
//! dependency would not remove the need to decide what to do with those code points either.

use std::fmt::Write;

/// Text fit for XML 1.0 character data and attribute values: `& < > " '` escaped, characters XML
/// cannot carry at all (C0 controls other than tab, newline and carriage return; U+FFFE, U+FFFF)
/// replaced by U+FFFD, so signed text with a stray control character still yields a valid
/// document. Carriage returns are written as a character reference so they survive parsing.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// An indented document, written element by element.
pub(crate) struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    /// A document with the XML declaration.
    pub(crate) fn new() -> Xml {
        Xml {
            out: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".into(),
            open: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
    }

    /// Open an element whose children follow.
    pub(crate) fn open(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.indent();
        self.tag(name, attrs);
        self.out.push_str(">\n");
        self.open.push(name);
    }

    /// Close the innermost open element.
    pub(crate) fn close(&mut self) {
        let name = self.open.pop().expect("an open element");
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    /// An element holding only text.
    pub(crate) fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.tag(name, attrs);
        let _ = writeln!(self.out, ">{}</{name}>", escape(text));
    }

    /// An empty element.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.tag(name, attrs);
        self.out.push_str("/>\n");
    }

    /// The document; every element must have been closed.
    pub(crate) fn finish(self) -> String {
        assert!(self.open.is_empty(), "unclosed elements: {:?}", self.open);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_unusable_characters_are_escaped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\r\n\te\u{0}\u{1b}\u{FFFF}ї"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#13;\n\te\u{FFFD}\u{FFFD}\u{FFFD}ї"
        );
    }

    #[test]
    fn elements_nest_and_indent() {
        let mut x = Xml::new();
        x.open("a", &[("k", "1&2")]);
        x.text("b", &[], "<t>");
        x.empty("c", &[("h", "x\"y")]);
        x.close();
        assert_eq!(
            x.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a k=\"1&amp;2\">\n  \
             <b>&lt;t&gt;</b>\n  <c h=\"x&quot;y\"/>\n</a>\n"
        );
    }
}
