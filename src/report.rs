//! Notes and errors: one diagnostic type for everything the tool tells a user, with a stable code,
//! a severity, the Proxmox key it concerns and a span into the config text.
//!
//! Errors stop a conversion; warnings say something was approximated or dropped (lossy, fatal under
//! `--strict`); advice says something was translated in a way worth knowing but without loss.
//! The CLI renders notes with miette for people and as JSON for pipelines.
//!
//! Every code is declared once, with its severity, summary and help, in [`codes`] (the registry
//! `docs/notes.md` is generated from); a note raised at another severity than its entry's panics in
//! debug builds and fails the registry's tests.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

/// A byte range in the config text. Left out of equality wherever it is carried (see [`Spanned`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn new(offset: usize, len: usize) -> Self {
        Span { offset, len }
    }
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
    /// A span covering `self` through `other`.
    pub fn to(&self, other: Span) -> Span {
        Span::new(self.offset, other.end().saturating_sub(self.offset))
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> Self {
        SourceSpan::new(s.offset.into(), s.len)
    }
}

/// A value and where it was written. Equality ignores the span, so models compare by content.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), span: self.span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is wrong; nothing is written.
    Error,
    /// Something was approximated or dropped: the converted VM differs from the Proxmox one.
    Warning,
    /// Translated without loss, but in a way the user should know about.
    Advice,
}

/// The registry of codes; `code::X` are its string constants.
pub mod codes;
pub use codes::code;

/// One diagnostic: an error, a lossy note or advice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub code: &'static str,
    pub severity: Severity,
    /// The Proxmox key the note is about (`rng0`, `net1`, …), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub message: String,
    #[serde(skip)]
    pub span: Option<Span>,
    /// Text of the label on the span (defaults to a short form of the message).
    #[serde(skip)]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Note {
    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        codes::check(code, severity);
        Note { code, severity, key: None, message: message.into(), span: None, label: None, help: None }
    }
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }
    pub fn advice(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Advice, code, message)
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// Lossy notes make `--strict` fail.
    pub fn is_lossy(&self) -> bool {
        self.severity == Severity::Warning
    }
}

/// The config text a set of notes points into, for rendering.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A note bound to its source, so miette can draw the snippet.
struct Bound<'a> {
    note: &'a Note,
    source: &'a NamedSource<String>,
}

impl fmt::Debug for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.note, f)
    }
}

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.note.key {
            Some(key) => write!(f, "{key}: {}", self.note.message),
            None => f.write_str(&self.note.message),
        }
    }
}

impl std::error::Error for Bound<'_> {}

impl miette::Diagnostic for Bound<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.note.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.note.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Advice => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.note.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.note.span.map(|_| self.source as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.note.span?;
        let label = self.note.label.clone().unwrap_or_else(|| "here".to_owned());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(label), span))))
    }
}

/// Renders notes for a terminal. `color: false` gives plain text (used by snapshot tests).
pub fn render_human(notes: &[Note], source: &Source, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_wrap_lines(false).with_links(false);
    let named = NamedSource::new(&source.name, source.text.clone());
    let mut out = String::new();
    for note in notes {
        let bound = Bound { note, source: &named };
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &bound);
    }
    out
}

/// A note as pipelines read it: the stable code, severity, key, position, text and where the code
/// is documented.
#[derive(Debug, Serialize)]
pub struct JsonNote<'a> {
    pub file: &'a str,
    #[serde(flatten)]
    pub note: &'a Note,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The code's entry in the generated documentation (`docs/notes.md#map-efidisk_oversized`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

pub fn to_json<'a>(notes: &'a [Note], source: &'a Source) -> Vec<JsonNote<'a>> {
    notes
        .iter()
        .map(|note| {
            let pos = note.span.map(|s| source.line_col(s.offset));
            JsonNote {
                file: &source.name,
                note,
                line: pos.map(|p| p.0),
                column: pos.map(|p| p.1),
                doc: codes::lookup(note.code).map(codes::Entry::doc_ref),
            }
        })
        .collect()
}
