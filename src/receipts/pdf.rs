//! Renders a French tax receipt (reçu fiscal, CERFA n° 11580 model in free layout) as an A4 PDF/A-2u file.
//!
//! Layout is done here, in two passes: blocks of text, frames and the signature are first measured
//! and placed on pages as plain drawing operations, then written with krilla. Knowing every page
//! before writing lets the footer say "page 1 / 2" and keeps a block from being cut by a page break.
//!
//! The output is deterministic: no clock is read and krilla derives the file identifier from the
//! content, so the same `ReceiptDocument` always gives the same bytes (each receipt is stored once
//! with its checksum).

use anyhow::{Result, anyhow, bail};
use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};

// Liberation Sans 2.1.5 (SIL OFL 1.1): covers Latin-1, Œ œ Ÿ €, French quotes and dashes, and the
// no-break spaces U+00A0 / U+202F used in French amounts. krilla subsets it into each PDF, so the
// whole font is shipped: a donor name in Polish, Greek or Cyrillic still renders.
static REGULAR_TTF: &[u8] = include_bytes!("fonts/LiberationSans-Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("fonts/LiberationSans-Bold.ttf");

/// A receipt, already worded in French: this module lays it out and does not format numbers or dates.
#[derive(Debug, Clone)]
pub struct ReceiptDocument {
    /// Receipt number, e.g. "2026-000123".
    pub number: String,
    /// e.g. "Reçu au titre des dons à certains organismes d’intérêt général".
    pub title: String,
    /// Number of the receipt this one corrects, printed as "Annule et remplace le reçu n° …".
    pub replaces: Option<String>,
    pub organisation_name: String,
    pub organisation_address: Vec<String>,
    /// May be long or contain line breaks: it is wrapped.
    pub organisation_object: String,
    /// The box of the CERFA that applies, e.g. "Association ou fondation reconnue d’utilité publique".
    pub organisation_category: String,
    /// "SIREN 123 456 789" or "RNA W751234567".
    pub organisation_identifier: String,
    pub donor_name: String,
    pub donor_address: Vec<String>,
    /// "120,00 €" (French format, with U+202F / U+00A0 spaces).
    pub amount_figures: String,
    /// "cent vingt euros".
    pub amount_words: String,
    /// "Date du versement : 1er décembre 2026" or "Versements de l’année 2026 (12 dons)".
    pub gift_dates: String,
    /// "Déclaration de don manuel", "Acte sous seing privé", "Autre"…
    pub form: String,
    /// "Numéraire"…
    pub nature: String,
    /// "Carte bancaire, prélèvement SEPA"…
    pub payment_methods: String,
    /// The articles certified, among "200", "238 bis" and "978".
    pub cgi_articles: Vec<String>,
    /// "Fait le 2 décembre 2026".
    pub issued_on: String,
    /// Date written in the PDF metadata (year, month, day). PDF/A requires one; it is passed in
    /// rather than read from the clock so that rendering stays deterministic.
    pub issued_date: (u16, u8, u8),
    /// "Marie Dupont, présidente".
    pub signatory: String,
    /// Scanned signature, drawn above the signatory's name within 50 × 20 mm.
    pub signature: Option<(Vec<u8>, ImageFormat)>,
    /// Detail of an annual receipt: (date, amount) rows, continued on further pages when needed.
    pub gifts: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

/// Renders the receipt as the bytes of a PDF/A-2u file.
pub fn render(doc: &ReceiptDocument) -> Result<Vec<u8>> {
    let fonts = Fonts::load()?;
    let doc = normalised(doc);
    fonts.check_coverage(&doc)?;
    let articles = certified_articles(&doc.cgi_articles)?;
    let signature = doc
        .signature
        .as_ref()
        .map(|(bytes, format)| decode_signature(bytes, *format))
        .transpose()?;

    let mut layout = Layout::new(&fonts);
    layout.place(header(&fonts, &doc))?;
    layout.gap(4.0 * MM);
    layout.place(beneficiary_box(&fonts, &doc))?;
    layout.gap(3.0 * MM);
    layout.place(donor_box(&fonts, &doc))?;
    layout.gap(3.0 * MM);
    layout.place(gift_box(&fonts, &doc))?;
    layout.gap(4.0 * MM);
    layout.place(certification_and_signature(
        &fonts,
        &doc,
        &articles,
        signature.as_ref(),
    ))?;
    if !doc.gifts.is_empty() {
        layout.gap(5.0 * MM);
        gift_table(&mut layout, &doc)?;
    }
    let pages = layout.finish(&doc.number);

    write_pdf(&fonts, &doc, &pages, signature.as_ref())
}

// ---------------------------------------------------------------------------------------------
// Page geometry, in PDF points (1/72 in). krilla puts the origin at the top-left corner.

const MM: f32 = 72.0 / 25.4;
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 20.0 * MM;
const LEFT: f32 = MARGIN;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = MARGIN;
// The footer lives in the bottom margin, so the body may run down to the margin itself.
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 12.0 * MM;

const BODY: f32 = 10.5;
const SMALL: f32 = 8.0;
const TITLE: f32 = 15.0;
const HEADING: f32 = 11.0;
const AMOUNT: f32 = 14.0;
const TABLE: f32 = 9.5;
const LEADING: f32 = 1.25;

const BOX_PADDING: f32 = 3.0 * MM;
const FRAME_WIDTH: f32 = 0.75;
const SIGNATURE_MAX_WIDTH: f32 = 50.0 * MM;
const SIGNATURE_MAX_HEIGHT: f32 = 20.0 * MM;

// Black text on white paper, with one dark blue for headings and frames: it prints well in grey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ink {
    Black,
    Accent,
}

impl Ink {
    fn colour(self) -> rgb::Color {
        match self {
            Ink::Black => rgb::Color::new(0, 0, 0),
            Ink::Accent => rgb::Color::new(0x1f, 0x3a, 0x68),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Centre,
    Right,
}

// ---------------------------------------------------------------------------------------------
// Input clean-up: the PDF only gets printable characters, so a stray tab or carriage return
// coming from a form cannot end up as a missing glyph.

/// Keeps line breaks only where a paragraph may have several (the object); elsewhere every
/// control character becomes a space.
fn clean(text: &str, keep_newlines: bool) -> String {
    let text = text.replace("\r\n", "\n");
    text.chars()
        .filter(|c| *c != '\r')
        .map(|c| match c {
            '\n' if keep_newlines => '\n',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_string()
}

fn clean_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| clean(line, false))
        .filter(|line| !line.is_empty())
        .collect()
}

fn normalised(doc: &ReceiptDocument) -> ReceiptDocument {
    ReceiptDocument {
        number: clean(&doc.number, false),
        title: clean(&doc.title, false),
        replaces: doc.replaces.as_deref().map(|r| clean(r, false)),
        organisation_name: clean(&doc.organisation_name, false),
        organisation_address: clean_lines(&doc.organisation_address),
        organisation_object: clean(&doc.organisation_object, true),
        organisation_category: clean(&doc.organisation_category, false),
        organisation_identifier: clean(&doc.organisation_identifier, false),
        donor_name: clean(&doc.donor_name, false),
        donor_address: clean_lines(&doc.donor_address),
        amount_figures: clean(&doc.amount_figures, false),
        amount_words: clean(&doc.amount_words, false),
        gift_dates: clean(&doc.gift_dates, false),
        form: clean(&doc.form, false),
        nature: clean(&doc.nature, false),
        payment_methods: clean(&doc.payment_methods, false),
        cgi_articles: doc.cgi_articles.iter().map(|a| clean(a, false)).collect(),
        issued_on: clean(&doc.issued_on, false),
        issued_date: doc.issued_date,
        signatory: clean(&doc.signatory, false),
        signature: doc.signature.clone(),
        gifts: doc
            .gifts
            .iter()
            .map(|(date, amount)| (clean(date, false), clean(amount, false)))
            .collect(),
    }
}

/// Returns the certified articles in the order of the code, refusing anything else: a typo here
/// would print a false legal statement.
fn certified_articles(articles: &[String]) -> Result<Vec<&'static str>> {
    const KNOWN: [&str; 3] = ["200", "238 bis", "978"];
    for article in articles {
        if !KNOWN.contains(&article.as_str()) {
            bail!("unknown CGI article {article:?}: expected \"200\", \"238 bis\" or \"978\"");
        }
    }
    let certified: Vec<&'static str> = KNOWN
        .into_iter()
        .filter(|known| articles.iter().any(|a| a == known))
        .collect();
    if certified.is_empty() {
        bail!("a receipt must certify at least one CGI article");
    }
    Ok(certified)
}

/// "l’article 200" or "aux articles 200, 238 bis et 978", as French writes lists.
fn articles_phrase(articles: &[&str]) -> String {
    match articles {
        [one] => format!("à l’article {one}"),
        [init @ .., last] => format!("aux articles {} et {last}", init.join(", ")),
        [] => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts, shaping and measuring. Text is shaped once with rustybuzz (the shaper krilla itself
// uses) and drawn from the same glyphs, so the width used for wrapping is the width on paper.

struct Face {
    pdf: Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8], name: &str) -> Result<Face> {
        let pdf = Font::new(data.into(), 0).ok_or_else(|| anyhow!("cannot read font {name}"))?;
        let shaper = rustybuzz::Face::from_slice(data, 0)
            .ok_or_else(|| anyhow!("cannot read font {name}"))?;
        let units_per_em = shaper.units_per_em() as f32;
        Ok(Face {
            pdf,
            shaper,
            units_per_em,
        })
    }

    fn shape(&self, text: &str) -> Vec<KrillaGlyph> {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(rustybuzz::Direction::LeftToRight);
        let shaped = rustybuzz::shape(&self.shaper, &[], buffer);
        let infos = shaped.glyph_infos();
        let positions = shaped.glyph_positions();
        let em = self.units_per_em;
        infos
            .iter()
            .zip(positions)
            .enumerate()
            .map(|(i, (info, pos))| {
                let start = info.cluster as usize;
                // A cluster ends where the next glyph of a later cluster starts; ligatures share one.
                let end = infos[i + 1..]
                    .iter()
                    .map(|next| next.cluster as usize)
                    .find(|&next| next > start)
                    .unwrap_or(text.len());
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / em,
                    pos.x_offset as f32 / em,
                    pos.y_offset as f32 / em,
                    pos.y_advance as f32 / em,
                    start..end,
                    None,
                )
            })
            .collect()
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text).iter().map(|g| g.x_advance).sum::<f32>() * size
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
    // Baseline position inside a line box, as a fraction of the font size.
    ascent: f32,
    descent: f32,
}

impl Fonts {
    fn load() -> Result<Fonts> {
        let regular = Face::load(REGULAR_TTF, "LiberationSans-Regular")?;
        let bold = Face::load(BOLD_TTF, "LiberationSans-Bold")?;
        let ascent = f32::from(regular.shaper.ascender()) / regular.units_per_em;
        let descent = -f32::from(regular.shaper.descender()) / regular.units_per_em;
        Ok(Fonts {
            regular,
            bold,
            ascent,
            descent,
        })
    }

    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    fn width(&self, text: &str, weight: Weight, size: f32) -> f32 {
        self.face(weight).width(text, size)
    }

    /// Fails on a character the font cannot draw, naming the field: better than a receipt with
    /// a blank box in the donor's name (and PDF/A forbids such glyphs anyway).
    fn check_coverage(&self, doc: &ReceiptDocument) -> Result<()> {
        let mut fields: Vec<(&str, &str)> = vec![
            ("number", &doc.number),
            ("title", &doc.title),
            ("organisation_name", &doc.organisation_name),
            ("organisation_object", &doc.organisation_object),
            ("organisation_category", &doc.organisation_category),
            ("organisation_identifier", &doc.organisation_identifier),
            ("donor_name", &doc.donor_name),
            ("amount_figures", &doc.amount_figures),
            ("amount_words", &doc.amount_words),
            ("gift_dates", &doc.gift_dates),
            ("form", &doc.form),
            ("nature", &doc.nature),
            ("payment_methods", &doc.payment_methods),
            ("issued_on", &doc.issued_on),
            ("signatory", &doc.signatory),
        ];
        if let Some(replaces) = &doc.replaces {
            fields.push(("replaces", replaces));
        }
        fields.extend(
            doc.organisation_address
                .iter()
                .map(|l| ("organisation_address", l.as_str())),
        );
        fields.extend(
            doc.donor_address
                .iter()
                .map(|l| ("donor_address", l.as_str())),
        );
        for (date, amount) in &doc.gifts {
            fields.push(("gifts", date));
            fields.push(("gifts", amount));
        }
        for (field, text) in fields {
            for c in text.chars().filter(|c| *c != '\n') {
                for face in [&self.regular, &self.bold] {
                    if face.shaper.glyph_index(c).is_none() {
                        bail!(
                            "{field} contains {c:?} (U+{:04X}), which the embedded font cannot draw",
                            u32::from(c)
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn line_height(size: f32) -> f32 {
        size * LEADING
    }

    /// Distance from the top of a line box to the baseline, centring the font's ascent+descent.
    fn baseline_offset(&self, size: f32) -> f32 {
        let line = Self::line_height(size);
        (line - (self.ascent + self.descent) * size) / 2.0 + self.ascent * size
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing operations, laid out before anything is written.

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        ink: Ink,
        text: String,
    },
    Frame {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        thickness: f32,
        ink: Ink,
    },
    Signature {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

impl Op {
    fn shifted(self, dy: f32) -> Op {
        match self {
            Op::Text {
                x,
                baseline,
                size,
                weight,
                ink,
                text,
            } => Op::Text {
                x,
                baseline: baseline + dy,
                size,
                weight,
                ink,
                text,
            },
            Op::Frame {
                x,
                y,
                width,
                height,
            } => Op::Frame {
                x,
                y: y + dy,
                width,
                height,
            },
            Op::Rule {
                x1,
                x2,
                y,
                thickness,
                ink,
            } => Op::Rule {
                x1,
                x2,
                y: y + dy,
                thickness,
                ink,
            },
            Op::Signature {
                x,
                y,
                width,
                height,
            } => Op::Signature {
                x,
                y: y + dy,
                width,
                height,
            },
        }
    }
}

/// Content measured from its own top (y = 0), placed on a page as a whole.
#[derive(Default)]
struct Block {
    ops: Vec<Op>,
    height: f32,
}

impl Block {
    fn append(&mut self, other: Block, dy: f32) {
        self.ops
            .extend(other.ops.into_iter().map(|op| op.shifted(dy)));
    }
}

/// A piece of text in one weight; a paragraph is a list of them.
#[derive(Clone, Copy)]
struct Span<'a> {
    text: &'a str,
    weight: Weight,
}

fn regular(text: &str) -> Span<'_> {
    Span {
        text,
        weight: Weight::Regular,
    }
}

fn bold(text: &str) -> Span<'_> {
    Span {
        text,
        weight: Weight::Bold,
    }
}

/// A word: the characters between two breakable spaces, possibly in several weights
/// ("120,00 €." with a bold amount and a regular full stop).
#[derive(Debug, Clone, Default)]
struct Word {
    parts: Vec<(Weight, String)>,
    space_before: bool,
}

enum Token {
    Word(Word),
    Break,
}

/// Splits on ordinary spaces only: U+00A0 and U+202F keep "1 234,50 €" and "n° 12" on one line.
fn tokenize(spans: &[Span]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = Word::default();
    let mut space_pending = false;
    let flush = |tokens: &mut Vec<Token>, word: &mut Word| {
        if !word.parts.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    };
    for span in spans {
        for c in span.text.chars() {
            match c {
                ' ' => {
                    flush(&mut tokens, &mut word);
                    space_pending = true;
                }
                '\n' => {
                    flush(&mut tokens, &mut word);
                    tokens.push(Token::Break);
                    space_pending = false;
                }
                c => {
                    if word.parts.is_empty() {
                        word.space_before = space_pending;
                        space_pending = false;
                    }
                    match word.parts.last_mut() {
                        Some((weight, text)) if *weight == span.weight => text.push(c),
                        _ => word.parts.push((span.weight, c.to_string())),
                    }
                }
            }
        }
    }
    flush(&mut tokens, &mut word);
    tokens
}

/// One laid-out line: runs of a single weight with their x offset from the line start.
struct Line {
    runs: Vec<(f32, Weight, String)>,
    width: f32,
}

impl Fonts {
    fn word_width(&self, word: &Word, size: f32) -> f32 {
        word.parts
            .iter()
            .map(|(w, t)| self.width(t, *w, size))
            .sum()
    }

    /// Cuts a word wider than the line (a long e-mail address, say) at character boundaries.
    fn split_long_word(&self, word: Word, size: f32, max_width: f32) -> Vec<Word> {
        let mut pieces = Vec::new();
        let mut current = Word {
            parts: Vec::new(),
            space_before: word.space_before,
        };
        let mut current_width = 0.0;
        for (weight, text) in word.parts {
            for c in text.chars() {
                let mut buf = [0u8; 4];
                let char_width = self.width(c.encode_utf8(&mut buf), weight, size);
                if current_width + char_width > max_width && !current.parts.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                    current_width = 0.0;
                }
                match current.parts.last_mut() {
                    Some((w, t)) if *w == weight => t.push(c),
                    _ => current.parts.push((weight, c.to_string())),
                }
                current_width += char_width;
            }
        }
        if !current.parts.is_empty() {
            pieces.push(current);
        }
        pieces
    }

    /// Greedy line breaking, measured with the font's advances (and kerning).
    fn wrap(&self, spans: &[Span], size: f32, max_width: f32) -> Vec<Line> {
        let mut lines: Vec<Vec<Word>> = Vec::new();
        let mut current: Vec<Word> = Vec::new();
        let mut current_width = 0.0;
        for token in tokenize(spans) {
            let word = match token {
                Token::Break => {
                    lines.push(std::mem::take(&mut current));
                    current_width = 0.0;
                    continue;
                }
                Token::Word(word) => word,
            };
            let width = self.word_width(&word, size);
            let words = if width > max_width {
                self.split_long_word(word, size, max_width)
            } else {
                vec![word]
            };
            for word in words {
                let width = self.word_width(&word, size);
                let space = match (word.space_before, current.last()) {
                    (true, Some(prev)) => {
                        let weight = prev.parts.last().map_or(Weight::Regular, |(w, _)| *w);
                        self.width(" ", weight, size)
                    }
                    _ => 0.0,
                };
                // A hundredth of a point of slack absorbs rounding in the sums.
                if !current.is_empty() && current_width + space + width > max_width + 0.01 {
                    lines.push(std::mem::take(&mut current));
                    current_width = width;
                } else {
                    current_width += space + width;
                }
                current.push(word);
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        lines
            .into_iter()
            .map(|words| self.runs(words, size))
            .collect()
    }

    /// Merges a line's words into runs of one weight, each measured as a whole so that the next
    /// run starts exactly where the drawn glyphs end. Spaces stay in the text so that copy and
    /// paste (and pdftotext) see words.
    fn runs(&self, words: Vec<Word>, size: f32) -> Line {
        let mut texts: Vec<(Weight, String)> = Vec::new();
        for (i, word) in words.into_iter().enumerate() {
            if i > 0
                && word.space_before
                && let Some((_, text)) = texts.last_mut()
            {
                text.push(' ');
            }
            for (weight, part) in word.parts {
                match texts.last_mut() {
                    Some((w, text)) if *w == weight => text.push_str(&part),
                    _ => texts.push((weight, part)),
                }
            }
        }
        let mut x = 0.0;
        let mut runs = Vec::with_capacity(texts.len());
        for (weight, text) in texts {
            let width = self.width(&text, weight, size);
            runs.push((x, weight, text));
            x += width;
        }
        Line { runs, width: x }
    }

    /// Lays a paragraph out at (x, y) within `width`; returns its height.
    #[expect(
        clippy::too_many_arguments,
        reason = "a text box is described by this many things"
    )]
    fn paragraph(
        &self,
        ops: &mut Vec<Op>,
        x: f32,
        y: f32,
        width: f32,
        spans: &[Span],
        size: f32,
        ink: Ink,
        align: Align,
    ) -> f32 {
        let line_height = Self::line_height(size);
        let baseline = self.baseline_offset(size);
        let lines = self.wrap(spans, size, width);
        for (i, line) in lines.iter().enumerate() {
            let start = match align {
                Align::Left => x,
                Align::Centre => x + (width - line.width) / 2.0,
                Align::Right => x + width - line.width,
            };
            for (dx, weight, text) in &line.runs {
                ops.push(Op::Text {
                    x: start + dx,
                    baseline: y + i as f32 * line_height + baseline,
                    size,
                    weight: *weight,
                    ink,
                    text: text.clone(),
                });
            }
        }
        lines.len() as f32 * line_height
    }
}

// ---------------------------------------------------------------------------------------------
// The receipt's blocks.

fn header(fonts: &Fonts, doc: &ReceiptDocument) -> Block {
    let mut block = Block::default();
    let mut y = 0.0;
    y += fonts.paragraph(
        &mut block.ops,
        LEFT,
        y,
        CONTENT_WIDTH,
        &[bold(&doc.title)],
        TITLE,
        Ink::Accent,
        Align::Centre,
    );
    y += 2.0 * MM;
    y += fonts.paragraph(
        &mut block.ops,
        LEFT,
        y,
        CONTENT_WIDTH,
        &[regular("Numéro d’ordre du reçu\u{a0}: "), bold(&doc.number)],
        HEADING,
        Ink::Black,
        Align::Centre,
    );
    if let Some(replaces) = &doc.replaces {
        y += 1.0 * MM;
        let text = format!("Annule et remplace le reçu n°\u{a0}{replaces}");
        y += fonts.paragraph(
            &mut block.ops,
            LEFT,
            y,
            CONTENT_WIDTH,
            &[bold(&text)],
            BODY,
            Ink::Accent,
            Align::Centre,
        );
    }
    y += 3.0 * MM;
    block.ops.push(Op::Rule {
        x1: LEFT,
        x2: LEFT + CONTENT_WIDTH,
        y,
        thickness: 1.0,
        ink: Ink::Accent,
    });
    block.height = y + 1.0;
    block
}

/// A "label : value" grid; the value column wraps on its own.
struct Field<'a> {
    label: &'static str,
    value: Vec<Vec<Span<'a>>>,
}

fn field<'a>(label: &'static str, value: Vec<Span<'a>>) -> Field<'a> {
    Field {
        label,
        value: vec![value],
    }
}

fn lines_field<'a>(label: &'static str, lines: &'a [String]) -> Field<'a> {
    Field {
        label,
        value: lines.iter().map(|l| vec![regular(l.as_str())]).collect(),
    }
}

// Every grid of the receipt uses the same label column, so the boxes line up.
const LABELS: [&str; 8] = [
    "Nom ou dénomination",
    "Adresse",
    "Objet",
    "Catégorie",
    "Identifiant",
    "Forme du don",
    "Nature du don",
    "Mode de versement",
];

fn label_column(fonts: &Fonts) -> f32 {
    let widest = LABELS
        .iter()
        .map(|l| fonts.width(&format!("{l}\u{a0}:"), Weight::Regular, BODY))
        .fold(0.0, f32::max);
    widest + 3.0 * MM
}

fn grid(fonts: &Fonts, ops: &mut Vec<Op>, x: f32, y: f32, width: f32, fields: &[Field]) -> f32 {
    let label_width = label_column(fonts);
    let value_x = x + label_width;
    let value_width = width - label_width;
    let mut dy = 0.0;
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            dy += 1.5;
        }
        let label = format!("{}\u{a0}:", field.label);
        let label_height = fonts.paragraph(
            ops,
            x,
            y + dy,
            label_width,
            &[regular(&label)],
            BODY,
            Ink::Black,
            Align::Left,
        );
        let mut value_height = 0.0;
        for value in &field.value {
            value_height += fonts.paragraph(
                ops,
                value_x,
                y + dy + value_height,
                value_width,
                value,
                BODY,
                Ink::Black,
                Align::Left,
            );
        }
        dy += f32::max(label_height, value_height);
    }
    dy
}

/// A frame with a heading, around content laid out by `fill` (which gets x, y, width and
/// returns the height it used).
fn framed(
    fonts: &Fonts,
    heading: &str,
    fill: impl FnOnce(&mut Vec<Op>, f32, f32, f32) -> f32,
) -> Block {
    let mut block = Block::default();
    let inner_x = LEFT + BOX_PADDING;
    let inner_width = CONTENT_WIDTH - 2.0 * BOX_PADDING;
    let mut y = BOX_PADDING - 1.0;
    y += fonts.paragraph(
        &mut block.ops,
        inner_x,
        y,
        inner_width,
        &[bold(heading)],
        HEADING,
        Ink::Accent,
        Align::Left,
    );
    y += 1.5 * MM;
    y += fill(&mut block.ops, inner_x, y, inner_width);
    y += BOX_PADDING - 1.0;
    block.ops.push(Op::Frame {
        x: LEFT,
        y: 0.0,
        width: CONTENT_WIDTH,
        height: y,
    });
    block.height = y;
    block
}

fn beneficiary_box(fonts: &Fonts, doc: &ReceiptDocument) -> Block {
    let mut fields = vec![field(
        "Nom ou dénomination",
        vec![bold(&doc.organisation_name)],
    )];
    if !doc.organisation_address.is_empty() {
        fields.push(lines_field("Adresse", &doc.organisation_address));
    }
    fields.push(field("Objet", vec![regular(&doc.organisation_object)]));
    fields.push(field(
        "Catégorie",
        vec![regular(&doc.organisation_category)],
    ));
    fields.push(field(
        "Identifiant",
        vec![regular(&doc.organisation_identifier)],
    ));
    framed(
        fonts,
        "Bénéficiaire des versements",
        |ops, x, y, width| grid(fonts, ops, x, y, width, &fields),
    )
}

fn donor_box(fonts: &Fonts, doc: &ReceiptDocument) -> Block {
    let mut fields = vec![field("Nom ou dénomination", vec![bold(&doc.donor_name)])];
    if !doc.donor_address.is_empty() {
        fields.push(lines_field("Adresse", &doc.donor_address));
    }
    framed(fonts, "Donateur", |ops, x, y, width| {
        grid(fonts, ops, x, y, width, &fields)
    })
}

fn gift_box(fonts: &Fonts, doc: &ReceiptDocument) -> Block {
    // Stars on both sides of the figures, as on cheques, so that nothing can be written next to them.
    let amount = format!("***\u{a0}{}\u{a0}***", doc.amount_figures);
    let fields = [
        field("Forme du don", vec![regular(&doc.form)]),
        field("Nature du don", vec![regular(&doc.nature)]),
        field("Mode de versement", vec![regular(&doc.payment_methods)]),
    ];
    framed(fonts, "Dons et versements", |ops, x, y, width| {
        let mut dy = 0.0;
        dy += fonts.paragraph(
            ops,
            x,
            y + dy,
            width,
            &[regular(
                "Le bénéficiaire reconnaît avoir reçu au titre des dons et versements ouvrant droit \
                 à réduction d’impôt, la somme de\u{a0}:",
            )],
            BODY,
            Ink::Black,
            Align::Left,
        );
        dy += 1.0 * MM;
        dy += fonts.paragraph(
            ops,
            x,
            y + dy,
            width,
            &[bold(&amount)],
            AMOUNT,
            Ink::Black,
            Align::Centre,
        );
        dy += 1.0 * MM;
        dy += fonts.paragraph(
            ops,
            x,
            y + dy,
            width,
            &[
                regular("Somme en toutes lettres\u{a0}: "),
                bold(&doc.amount_words),
            ],
            BODY,
            Ink::Black,
            Align::Left,
        );
        dy += fonts.paragraph(
            ops,
            x,
            y + dy,
            width,
            &[regular(&doc.gift_dates)],
            BODY,
            Ink::Black,
            Align::Left,
        );
        dy += 2.0 * MM;
        dy += grid(fonts, ops, x, y + dy, width, &fields);
        dy
    })
}

/// The certification and the signature stay together: a statement on one page signed on the
/// next would look forged.
fn certification_and_signature(
    fonts: &Fonts,
    doc: &ReceiptDocument,
    articles: &[&str],
    signature: Option<&Signature>,
) -> Block {
    let mut block = Block::default();
    let statement = format!(
        "Le bénéficiaire certifie sur l’honneur que les dons et versements qu’il reçoit ouvrent droit \
         à la réduction d’impôt prévue {} du code général des impôts.",
        articles_phrase(articles)
    );
    let mut y = fonts.paragraph(
        &mut block.ops,
        LEFT,
        0.0,
        CONTENT_WIDTH,
        &[regular(&statement)],
        BODY,
        Ink::Black,
        Align::Left,
    );
    y += 4.0 * MM;

    // As on the CERFA: the date on the left, the signature and the signatory's name on the right.
    let date_height = fonts.paragraph(
        &mut block.ops,
        LEFT,
        y,
        CONTENT_WIDTH * 0.5,
        &[regular(&doc.issued_on)],
        BODY,
        Ink::Black,
        Align::Left,
    );
    let column_x = LEFT + CONTENT_WIDTH * 0.55;
    let column_width = CONTENT_WIDTH * 0.45;
    let mut signature_y = y;
    match signature {
        Some(signature) => {
            let (width, height) = signature.fitted_size();
            block.ops.push(Op::Signature {
                x: column_x,
                y: signature_y,
                width,
                height,
            });
            signature_y += height + 1.5 * MM;
        }
        // Room for a handwritten signature on a printed copy.
        None => signature_y += SIGNATURE_MAX_HEIGHT,
    }
    signature_y += fonts.paragraph(
        &mut block.ops,
        column_x,
        signature_y,
        column_width,
        &[bold(&doc.signatory)],
        BODY,
        Ink::Black,
        Align::Left,
    );
    block.height = f32::max(y + date_height, signature_y);
    block
}

/// The detail of an annual receipt: two columns of (date, amount) per page, so that 60 gifts
/// take one continuation page, with the header repeated on every page and the columns of the
/// last page balanced.
fn gift_table(layout: &mut Layout, doc: &ReceiptDocument) -> Result<()> {
    const COLUMNS: usize = 2;
    let fonts = layout.fonts;
    let gutter = 10.0 * MM;
    let column_width = (CONTENT_WIDTH - gutter) / COLUMNS as f32;
    let column_x = |column: usize| LEFT + column as f32 * (column_width + gutter);
    let amount_width = 30.0 * MM;
    let cell_pad = 1.5 * MM;
    let row_height = Fonts::line_height(TABLE) + 2.5;

    // Rule under data rows, a stronger one under the header and above the total.
    #[derive(Clone, Copy)]
    enum Kind {
        Header,
        Gift,
        Total,
    }
    let row = |column: usize, date: &str, amount: &str, kind: Kind| -> Block {
        let mut block = Block::default();
        let x = column_x(column);
        let weight = match kind {
            Kind::Gift => Weight::Regular,
            Kind::Header | Kind::Total => Weight::Bold,
        };
        let top = 1.25;
        let date_width = column_width - amount_width - 2.0 * cell_pad;
        let span = [Span { text: date, weight }];
        let date_height = fonts.paragraph(
            &mut block.ops,
            x + cell_pad,
            top,
            date_width,
            &span,
            TABLE,
            Ink::Black,
            Align::Left,
        );
        let span = [Span {
            text: amount,
            weight,
        }];
        let amount_height = fonts.paragraph(
            &mut block.ops,
            x + column_width - cell_pad - amount_width,
            top,
            amount_width,
            &span,
            TABLE,
            Ink::Black,
            Align::Right,
        );
        block.height = f32::max(row_height, f32::max(date_height, amount_height) + 2.5);
        let (y, thickness, ink) = match kind {
            Kind::Header => (block.height, 0.9, Ink::Accent),
            Kind::Gift => (block.height, 0.3, Ink::Black),
            Kind::Total => (0.0, 0.9, Ink::Accent),
        };
        block.ops.push(Op::Rule {
            x1: x,
            x2: x + column_width,
            y,
            thickness,
            ink,
        });
        block
    };
    let heading = |suffix: &str| -> Block {
        let mut block = Block::default();
        let text = format!("Détail des versements{suffix}");
        block.height = fonts.paragraph(
            &mut block.ops,
            LEFT,
            0.0,
            CONTENT_WIDTH,
            &[bold(&text)],
            HEADING,
            Ink::Accent,
            Align::Left,
        ) + 1.5 * MM;
        let mut header_height: f32 = 0.0;
        for column in 0..COLUMNS {
            let header = row(column, "Date du versement", "Montant", Kind::Header);
            header_height = header_height.max(header.height);
            let dy = block.height;
            block.append(header, dy);
        }
        block.height += header_height;
        block
    };

    let mut rows: Vec<(&str, &str, Kind)> = doc
        .gifts
        .iter()
        .map(|(date, amount)| (date.as_str(), amount.as_str(), Kind::Gift))
        .collect();
    rows.push(("Total", doc.amount_figures.as_str(), Kind::Total));

    // Keep the heading with at least three rows rather than alone at the foot of a page.
    if !layout.fits(heading("").height + 3.0 * row_height) {
        layout.new_page();
    }
    let mut suffix = "";
    let mut rest = &rows[..];
    loop {
        layout.place(heading(suffix))?;
        let top = layout.y;
        // Both columns have the same width, so a row is as tall in either.
        let heights: Vec<f32> = rest
            .iter()
            .map(|(date, amount, kind)| row(0, date, amount, *kind).height)
            .collect();
        // Fill column after column; if everything left fits on this page, share it out evenly.
        let fill = |per_column: usize| -> Vec<(usize, f32)> {
            let mut placed = Vec::new();
            let (mut column, mut y, mut in_column) = (0, top, 0);
            for &height in &heights {
                if y + height > BOTTOM || in_column == per_column {
                    column += 1;
                    (y, in_column) = (top, 0);
                    if column == COLUMNS || top + height > BOTTOM {
                        break;
                    }
                }
                placed.push((column, y));
                y += height;
                in_column += 1;
            }
            placed
        };
        let mut placed = fill(usize::MAX);
        if placed.len() == rest.len() {
            placed = fill(rest.len().div_ceil(COLUMNS));
        }
        if placed.is_empty() {
            bail!("the gift table does not fit on a page");
        }
        let mut bottom = top;
        for ((date, amount, kind), (column, y)) in rest.iter().zip(&placed) {
            let block = row(*column, date, amount, *kind);
            bottom = bottom.max(y + block.height);
            layout.put(block, *y);
        }
        rest = &rest[placed.len()..];
        layout.y = bottom;
        if rest.is_empty() {
            return Ok(());
        }
        layout.new_page();
        suffix = " (suite)";
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination.

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn fits(&self, height: f32) -> bool {
        self.y + height <= BOTTOM
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    /// Places a block whole, on a new page if it does not fit on this one.
    fn place(&mut self, block: Block) -> Result<()> {
        if !self.fits(block.height) {
            if block.height > BOTTOM - TOP {
                bail!("a block of the receipt is taller than a page: some text is far too long");
            }
            self.new_page();
        }
        let height = block.height;
        self.put(block, self.y);
        self.y += height;
        Ok(())
    }

    /// Puts a block at `y` on the current page without moving the cursor (table columns).
    fn put(&mut self, block: Block, y: f32) {
        if let Some(page) = self.pages.last_mut() {
            page.extend(block.ops.into_iter().map(|op| op.shifted(y)));
        }
    }

    /// Adds the footers, now that the page count is known.
    fn finish(mut self, number: &str) -> Vec<Vec<Op>> {
        let count = self.pages.len();
        let left = format!("Reçu n°\u{a0}{number}");
        for (i, page) in self.pages.iter_mut().enumerate() {
            let right = format!("Page {}\u{a0}/\u{a0}{count}", i + 1);
            let right_width = self.fonts.width(&right, Weight::Regular, SMALL);
            for (x, text) in [
                (LEFT, left.clone()),
                (LEFT + CONTENT_WIDTH - right_width, right),
            ] {
                page.push(Op::Text {
                    x,
                    baseline: FOOTER_BASELINE,
                    size: SMALL,
                    weight: Weight::Regular,
                    ink: Ink::Black,
                    text,
                });
            }
        }
        self.pages
    }
}

// ---------------------------------------------------------------------------------------------
// The signature image.

struct Signature {
    image: Image,
    pixels: (u32, u32),
}

fn decode_signature(bytes: &[u8], format: ImageFormat) -> Result<Signature> {
    // PDF/A forbids image interpolation, hence `false`.
    let image = match format {
        ImageFormat::Png => Image::from_png(bytes.to_vec().into(), false),
        ImageFormat::Jpeg => Image::from_jpeg(bytes.to_vec().into(), false),
    }
    .map_err(|e| anyhow!("the signature is not a readable {format:?} image: {e}"))?;
    let pixels = image.size();
    if pixels.0 == 0 || pixels.1 == 0 {
        bail!("the signature image is empty");
    }
    Ok(Signature { image, pixels })
}

impl Signature {
    /// The largest size within 50 × 20 mm that keeps the image's proportions.
    fn fitted_size(&self) -> (f32, f32) {
        let (w, h) = (self.pixels.0 as f32, self.pixels.1 as f32);
        let scale = f32::min(SIGNATURE_MAX_WIDTH / w, SIGNATURE_MAX_HEIGHT / h);
        (w * scale, h * scale)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing the PDF.

fn write_pdf(
    fonts: &Fonts,
    doc: &ReceiptDocument,
    pages: &[Vec<Op>],
    signature: Option<&Signature>,
) -> Result<Vec<u8>> {
    // PDF/A-2u: archival, fonts embedded, and every glyph mapped to Unicode so the text can be
    // searched and copied.
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_U)
        .finish()
        .map_err(|e| anyhow!("invalid PDF configuration: {e:?}"))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);

    let (year, month, day) = doc.issued_date;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        bail!("invalid issue date {year}-{month}-{day}");
    }
    document.set_metadata(
        Metadata::new()
            .title(format!("Reçu fiscal n° {}", doc.number))
            .authors(vec![doc.organisation_name.clone()])
            .language("fr-FR".to_string())
            .creator("Obole".to_string())
            .creation_date(DateTime::new(year).month(month).day(day)),
    );

    let page_settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| anyhow!("invalid page size"))?;
    for ops in pages {
        let mut page = document.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, fonts, op, signature)?;
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| anyhow!("cannot write the receipt PDF: {e} ({e:?})"))
}

fn draw(
    surface: &mut Surface,
    fonts: &Fonts,
    op: &Op,
    signature: Option<&Signature>,
) -> Result<()> {
    match op {
        Op::Text {
            x,
            baseline,
            size,
            weight,
            ink,
            text,
        } => {
            let face = fonts.face(*weight);
            let glyphs = face.shape(text);
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*ink)));
            surface.draw_glyphs(
                Point::from_xy(*x, *baseline),
                &glyphs,
                face.pdf.clone(),
                text,
                *size,
                false,
            );
        }
        Op::Frame {
            x,
            y,
            width,
            height,
        } => {
            let mut path = PathBuilder::new();
            let rect =
                Rect::from_xywh(*x, *y, *width, *height).ok_or_else(|| anyhow!("invalid frame"))?;
            path.push_rect(rect);
            stroke_path(surface, path, FRAME_WIDTH, Ink::Accent)?;
        }
        Op::Rule {
            x1,
            x2,
            y,
            thickness,
            ink,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y);
            path.line_to(*x2, *y);
            stroke_path(surface, path, *thickness, *ink)?;
        }
        Op::Signature {
            x,
            y,
            width,
            height,
        } => {
            let signature =
                signature.ok_or_else(|| anyhow!("signature laid out but not decoded"))?;
            let size =
                Size::from_wh(*width, *height).ok_or_else(|| anyhow!("invalid signature size"))?;
            surface.push_transform(&Transform::from_translate(*x, *y));
            surface.draw_image(signature.image.clone(), size);
            surface.pop();
        }
    }
    Ok(())
}

fn fill(ink: Ink) -> Fill {
    Fill {
        paint: ink.colour().into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke_path(surface: &mut Surface, path: PathBuilder, width: f32, ink: Ink) -> Result<()> {
    let path = path.finish().ok_or_else(|| anyhow!("empty path"))?;
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: ink.colour().into(),
        width,
        ..Stroke::default()
    }));
    surface.draw_path(&path);
    surface.set_stroke(None);
    Ok(())
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    fn one_off() -> ReceiptDocument {
        ReceiptDocument {
            number: "2026-000123".into(),
            title: "Reçu au titre des dons à certains organismes d’intérêt général".into(),
            replaces: Some("2026-000045".into()),
            organisation_name: "Les Amis de l’Œuvre Sainte-Thérèse".into(),
            organisation_address: vec!["12, rue de l’Église".into(), "75011 Paris".into()],
            organisation_object: "Aider les personnes âgées isolées : visites à domicile, repas \
                partagés, sorties culturelles, accompagnement dans les démarches administratives \
                et lutte contre la fracture numérique « pour que personne ne reste seul ». \
                L’association agit à Paris et en Île-de-France depuis 1987."
                .into(),
            organisation_category: "Association ou fondation reconnue d’utilité publique".into(),
            organisation_identifier: "SIREN 123\u{a0}456\u{a0}789".into(),
            donor_name: "Françoise Lœwy-Müller".into(),
            donor_address: vec!["3, allée des Cœurs-Vaillants".into(), "69007 Lyon".into()],
            amount_figures: "120,00\u{a0}€".into(),
            amount_words: "cent vingt euros".into(),
            gift_dates: "Date du versement\u{a0}: 1er décembre 2026".into(),
            form: "Déclaration de don manuel".into(),
            nature: "Numéraire".into(),
            payment_methods: "Carte bancaire".into(),
            cgi_articles: vec!["200".into(), "238 bis".into(), "978".into()],
            issued_on: "Fait le 2 décembre 2026".into(),
            issued_date: (2026, 12, 2),
            signatory: "Marie Dupont, présidente".into(),
            signature: None,
            gifts: Vec::new(),
        }
    }

    fn annual() -> ReceiptDocument {
        let months = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        let gifts = (0..60)
            .map(|i| {
                (
                    format!("{} {} 2026", 1 + (i % 28), months[i % 12]),
                    "20,50\u{a0}€".to_string(),
                )
            })
            .collect();
        ReceiptDocument {
            number: "2026-000124".into(),
            replaces: None,
            gift_dates: "Versements de l’année 2026 (60 dons)".into(),
            amount_figures: "1\u{202f}230,00\u{a0}€".into(),
            amount_words: "mille deux cent trente euros".into(),
            payment_methods: "Carte bancaire, prélèvement SEPA".into(),
            cgi_articles: vec!["200".into()],
            signature: Some((signature_png(), ImageFormat::Png)),
            gifts,
            ..one_off()
        }
    }

    fn out_dir() -> PathBuf {
        let dir = std::env::temp_dir().join("receipt-pdf-tests");
        std::fs::create_dir_all(&dir).expect("create the test output directory");
        dir
    }

    fn tool(name: &str, args: &[&str]) -> (String, String) {
        let output = Command::new(name).args(args).output().unwrap_or_else(|e| {
            panic!("cannot run `{name}` ({e}): install poppler-utils (apt-get install -y poppler-utils)")
        });
        assert!(
            output.status.success(),
            "`{name} {args:?}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    // pdftotext turns U+00A0 and U+202F into plain spaces (the PDF's ToUnicode map keeps them),
    // and lines wrap: texts are compared with every run of spaces squashed to one.
    const WHITESPACE: [char; 7] = [' ', '\n', '\t', '\r', '\u{c}', '\u{a0}', '\u{202f}'];

    fn squash(text: &str) -> String {
        text.split(WHITESPACE)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Writes the PDF and its first page as PNG; returns pdftotext's text, squashed, and pdfinfo's
    /// report.
    fn write_and_extract(name: &str, pdf: &[u8]) -> (String, String) {
        let dir = out_dir();
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, pdf).expect("write the PDF");
        let path = path.to_str().expect("UTF-8 temp path");
        let (text, _) = tool("pdftotext", &["-layout", "-enc", "UTF-8", path, "-"]);
        let text = squash(&text);
        let (info, errors) = tool("pdfinfo", &[path]);
        assert!(
            errors.trim().is_empty(),
            "pdfinfo reported errors: {errors}"
        );
        let prefix = dir.join(name);
        tool(
            "pdftoppm",
            &[
                "-r",
                "80",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                path,
                prefix.to_str().expect("UTF-8"),
            ],
        );
        (text, info)
    }

    fn assert_contains(text: &str, needle: &str) {
        let needle = squash(needle);
        assert!(
            text.contains(&needle),
            "{needle:?} missing from the extracted text:\n{text}"
        );
    }

    fn assert_a4(info: &str, pages: usize) {
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_else(|| panic!("pdfinfo printed no {name:?}:\n{info}"))
                .to_string()
        };
        assert_eq!(field("Page size:"), "595.28 x 841.89 pts (A4)");
        assert_eq!(field("Pages:"), pages.to_string());
    }

    #[test]
    fn a_one_off_receipt_carries_every_mandatory_mention() {
        let doc = one_off();
        let pdf = render(&doc).expect("render");
        let (text, info) = write_and_extract("one-off", &pdf);
        assert_a4(&info, 1);
        for needle in [
            "Reçu au titre des dons à certains organismes d’intérêt général",
            "Numéro d’ordre du reçu\u{a0}: 2026-000123",
            "Annule et remplace le reçu n°\u{a0}2026-000045",
            "Bénéficiaire des versements",
            "Les Amis de l’Œuvre Sainte-Thérèse",
            "12, rue de l’Église",
            "« pour que personne ne reste seul »",
            "depuis 1987.",
            "Association ou fondation reconnue d’utilité publique",
            "SIREN 123\u{a0}456\u{a0}789",
            "Donateur",
            "Françoise Lœwy-Müller",
            "3, allée des Cœurs-Vaillants",
            "Le bénéficiaire reconnaît avoir reçu au titre des dons et versements ouvrant droit à \
             réduction d’impôt, la somme de\u{a0}:",
            "***\u{a0}120,00\u{a0}€\u{a0}***",
            "Somme en toutes lettres\u{a0}: cent vingt euros",
            "Date du versement\u{a0}: 1er décembre 2026",
            "Le bénéficiaire certifie sur l’honneur que les dons et versements qu’il reçoit ouvrent \
             droit à la réduction d’impôt prévue aux articles 200, 238 bis et 978 du code général \
             des impôts.",
            "Forme du don\u{a0}: Déclaration de don manuel",
            "Nature du don\u{a0}: Numéraire",
            "Mode de versement\u{a0}: Carte bancaire",
            "Fait le 2 décembre 2026",
            "Marie Dupont, présidente",
            "Page 1\u{a0}/\u{a0}1",
        ] {
            assert_contains(&text, needle);
        }
    }

    #[test]
    fn an_annual_receipt_lists_sixty_gifts_over_two_pages_with_a_signature() {
        let doc = annual();
        let pdf = render(&doc).expect("render");
        let (text, info) = write_and_extract("annual", &pdf);
        assert_a4(&info, 2);
        for needle in [
            "Numéro d’ordre du reçu\u{a0}: 2026-000124",
            "***\u{a0}1\u{202f}230,00\u{a0}€\u{a0}***",
            "Somme en toutes lettres\u{a0}: mille deux cent trente euros",
            "Versements de l’année 2026 (60 dons)",
            "prévue à l’article 200 du code général des impôts.",
            "Mode de versement\u{a0}: Carte bancaire, prélèvement SEPA",
            "Détail des versements Date du versement Montant Date du versement Montant",
            "12 décembre 2026",
            "Total 1\u{202f}230,00\u{a0}€",
            "Page 2\u{a0}/\u{a0}2",
        ] {
            assert_contains(&text, needle);
        }
        assert_eq!(
            text.matches("20,50 €").count(),
            60,
            "every gift row is printed once"
        );
        assert!(!text.contains("Annule et remplace"));
        let (images, _) = tool(
            "pdfimages",
            &[
                "-list",
                out_dir().join("annual.pdf").to_str().expect("UTF-8"),
            ],
        );
        assert!(
            images.lines().count() > 2,
            "the signature image is embedded:\n{images}"
        );
    }

    #[test]
    fn a_long_gift_table_continues_with_its_header_repeated() {
        let mut doc = annual();
        doc.gifts = (1..=150)
            .map(|i| (format!("gift {i:03}"), "8,20\u{a0}€".to_string()))
            .collect();
        let pdf = render(&doc).expect("render");
        let (text, info) = write_and_extract("long-table", &pdf);
        assert_a4(&info, 3);
        assert_contains(&text, "Détail des versements (suite)");
        assert_contains(&text, "Page 3\u{a0}/\u{a0}3");
        for i in 1..=150 {
            assert_eq!(
                text.matches(&format!("gift {i:03} ")).count(),
                1,
                "row {i} printed once"
            );
        }
    }

    #[test]
    fn a_short_gift_table_fits_under_the_signature() {
        let mut doc = annual();
        doc.gifts.truncate(12);
        let pdf = render(&doc).expect("render");
        let (text, info) = write_and_extract("short-table", &pdf);
        assert_a4(&info, 1);
        assert_eq!(text.matches("20,50 €").count(), 12);
        assert!(!text.contains("(suite)"));
    }

    #[test]
    fn a_jpeg_signature_is_embedded() {
        let doc = ReceiptDocument {
            signature: Some((signature_jpeg(), ImageFormat::Jpeg)),
            ..one_off()
        };
        let pdf = render(&doc).expect("render");
        let (_, info) = write_and_extract("jpeg-signature", &pdf);
        assert_a4(&info, 1);
        let (images, _) = tool(
            "pdfimages",
            &[
                "-list",
                out_dir()
                    .join("jpeg-signature.pdf")
                    .to_str()
                    .expect("UTF-8"),
            ],
        );
        assert!(
            images.contains("jpeg"),
            "the JPEG is passed through:\n{images}"
        );
    }

    #[test]
    fn fonts_are_embedded_as_subsets() {
        let pdf = render(&annual()).expect("render");
        let path = out_dir().join("fonts.pdf");
        std::fs::write(&path, &pdf).expect("write the PDF");
        let (fonts, _) = tool("pdffonts", &[path.to_str().expect("UTF-8")]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert_eq!(rows.len(), 2, "regular and bold only:\n{fonts}");
        for row in rows {
            assert!(row.contains("LiberationSans"), "{fonts}");
            assert!(
                row.contains(" yes yes yes "),
                "embedded, subset, with a ToUnicode map:\n{fonts}"
            );
        }
        assert!(
            pdf.len() < 120_000,
            "a receipt stays small: {} bytes",
            pdf.len()
        );
    }

    #[test]
    fn the_same_receipt_renders_to_the_same_bytes() {
        let doc = annual();
        assert_eq!(render(&doc).expect("render"), render(&doc).expect("render"));
        let other = ReceiptDocument {
            number: "2026-000125".into(),
            ..annual()
        };
        assert_ne!(
            render(&doc).expect("render"),
            render(&other).expect("render")
        );
    }

    #[test]
    fn the_output_claims_pdf_a_2u() {
        let pdf = render(&one_off()).expect("render");
        let pdf = String::from_utf8_lossy(&pdf);
        assert!(
            pdf.contains("<pdfaid:part>2</pdfaid:part>"),
            "PDF/A part in the XMP metadata"
        );
        assert!(pdf.contains("<pdfaid:conformance>U</pdfaid:conformance>"));
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let fonts = Fonts::load().expect("fonts");
        let long = one_off().organisation_object.repeat(3)
            + " https://exemple.org/un-tres-long-chemin-sans-espace-qui-doit-etre-coupe-quelque-part";
        for width in [60.0, 150.0, 300.0] {
            let lines = fonts.wrap(&[regular(&long), bold(" fin en gras.")], BODY, width);
            assert!(lines.len() > 1);
            for line in &lines {
                assert!(line.width <= width + 0.01, "{} > {width}", line.width);
            }
        }
    }

    #[test]
    fn no_break_spaces_keep_an_amount_on_one_line() {
        let fonts = Fonts::load().expect("fonts");
        let amount_width = fonts.width("1\u{202f}234,50\u{a0}€", Weight::Regular, BODY);
        let lines = fonts.wrap(
            &[regular("Montant 1\u{202f}234,50\u{a0}€")],
            BODY,
            amount_width + 5.0,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].runs[0].2, "1\u{202f}234,50\u{a0}€");
    }

    #[test]
    fn article_lists_read_as_french() {
        assert_eq!(articles_phrase(&["200"]), "à l’article 200");
        assert_eq!(
            articles_phrase(&["200", "238 bis"]),
            "aux articles 200 et 238 bis"
        );
        assert_eq!(
            articles_phrase(&["200", "238 bis", "978"]),
            "aux articles 200, 238 bis et 978"
        );
        let reordered = certified_articles(&["978".into(), "200".into()]).expect("known articles");
        assert_eq!(reordered, ["200", "978"]);
    }

    #[test]
    fn an_unknown_article_is_refused() {
        let doc = ReceiptDocument {
            cgi_articles: vec!["200 bis".into()],
            ..one_off()
        };
        let error = render(&doc).expect_err("must fail").to_string();
        assert!(error.contains("200 bis"), "{error}");
        let doc = ReceiptDocument {
            cgi_articles: Vec::new(),
            ..one_off()
        };
        assert!(render(&doc).is_err());
    }

    #[test]
    fn a_character_missing_from_the_font_is_reported_with_its_field() {
        let doc = ReceiptDocument {
            donor_name: "王小明".into(),
            ..one_off()
        };
        let error = render(&doc).expect_err("must fail").to_string();
        assert!(
            error.contains("donor_name") && error.contains("U+738B"),
            "{error}"
        );
    }

    #[test]
    fn a_broken_signature_image_is_an_error() {
        let doc = ReceiptDocument {
            signature: Some((b"not a png".to_vec(), ImageFormat::Png)),
            ..one_off()
        };
        let error = render(&doc).expect_err("must fail").to_string();
        assert!(error.contains("signature"), "{error}");
    }

    // --- Test images, made here so the tests need no fixture file. ---

    /// A 360 × 120 RGBA PNG with a blue scribble on a transparent background, stored without
    /// compression (a valid zlib stream made of stored blocks).
    fn signature_png() -> Vec<u8> {
        let (width, height) = (360u32, 120u32);
        let mut raw = Vec::new();
        for y in 0..height {
            raw.push(0); // filter: none
            for x in 0..width {
                let t = x as f32 / width as f32;
                let curve = 60.0 + 35.0 * (t * 19.0).sin() * (1.0 - t) + 10.0 * (t * 5.0).cos();
                let ink = (y as f32 - curve).abs() < 2.5 && x > 10 && x < width - 10;
                raw.extend_from_slice(if ink {
                    &[20, 40, 120, 255]
                } else {
                    &[255, 255, 255, 0]
                });
            }
        }
        let mut zlib = vec![0x78, 0x01];
        let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            zlib.push(u8::from(i + 1 == chunks.len()));
            let len = chunk.len() as u16;
            zlib.extend_from_slice(&len.to_le_bytes());
            zlib.extend_from_slice(&(!len).to_le_bytes());
            zlib.extend_from_slice(chunk);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for byte in &raw {
            a = (a + u32::from(*byte)) % 65_521;
            b = (b + a) % 65_521;
        }
        zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());

        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
        for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(&data);
            png.extend_from_slice(&body);
            png.extend_from_slice(&crc32(&body).to_be_bytes());
        }
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A tiny greyscale baseline JPEG (48 × 16 px), written once with Pillow: encoding JPEG by
    /// hand is not worth it for a test.
    fn signature_jpeg() -> Vec<u8> {
        JPEG_48X16.to_vec()
    }

    #[rustfmt::skip]
    const JPEG_48X16: &[u8] = &[
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0xff, 0xdb, 0x00, 0x43, 0x00, 0x0d, 0x09, 0x0a, 0x0b, 0x0a, 0x08, 0x0d, 0x0b, 0x0a, 0x0b, 0x0e, 0x0e, 0x0d, 0x0f, 0x13,
        0x20, 0x15, 0x13, 0x12, 0x12, 0x13, 0x27, 0x1c, 0x1e, 0x17, 0x20, 0x2e, 0x29, 0x31, 0x30, 0x2e, 0x29, 0x2d, 0x2c, 0x33,
        0x3a, 0x4a, 0x3e, 0x33, 0x36, 0x46, 0x37, 0x2c, 0x2d, 0x40, 0x57, 0x41, 0x46, 0x4c, 0x4e, 0x52, 0x53, 0x52, 0x32, 0x3e,
        0x5a, 0x61, 0x5a, 0x50, 0x60, 0x4a, 0x51, 0x52, 0x4f, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x30, 0x01, 0x01,
        0x11, 0x00, 0xff, 0xc4, 0x00, 0x17, 0x00, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x06, 0x05, 0x04, 0x07, 0xff, 0xc4, 0x00, 0x29, 0x10, 0x00, 0x01, 0x04, 0x01, 0x03, 0x03, 0x03, 0x04,
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x11, 0x12, 0x21, 0x41, 0x00, 0x06, 0x31,
        0x22, 0x61, 0xe1, 0x32, 0x42, 0x71, 0x72, 0x51, 0x81, 0xd1, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00,
        0xe8, 0x36, 0xf6, 0xb1, 0x29, 0xab, 0xd7, 0x36, 0x73, 0x9a, 0x1b, 0x4e, 0xc0, 0x0d, 0xd4, 0xb5, 0x70, 0x94, 0x8e, 0x49,
        0xf9, 0xf1, 0xd4, 0x58, 0x1d, 0xc7, 0x60, 0x9b, 0x28, 0x31, 0xaf, 0x2b, 0x9b, 0x84, 0x8b, 0x14, 0x28, 0xc6, 0x21, 0xdc,
        0x94, 0xa8, 0x13, 0xe9, 0x58, 0x38, 0xc1, 0x29, 0x28, 0x1f, 0x93, 0xee, 0x42, 0x50, 0xcc, 0x97, 0x1e, 0x04, 0x47, 0x25,
        0x4c, 0x75, 0x2d, 0x30, 0xd0, 0xd4, 0xb5, 0xab, 0xc0, 0xff, 0x00, 0x4f, 0xb7, 0x3d, 0x43, 0xad, 0xee, 0xd6, 0x25, 0xcc,
        0x8c, 0xc4, 0xb8, 0x52, 0x20, 0x26, 0x6a, 0x0a, 0xe2, 0x38, 0xfe, 0x02, 0x5e, 0xf5, 0x10, 0x07, 0xb1, 0x23, 0x49, 0x1f,
        0xb7, 0xea, 0x54, 0x8b, 0xa9, 0xcc, 0xdd, 0xc1, 0x91, 0x6c, 0xe5, 0x6c, 0x65, 0xb8, 0xf3, 0xcd, 0x64, 0x3a, 0xa6, 0xdb,
        0x52, 0x90, 0xd2, 0x87, 0xda, 0xa5, 0x63, 0x00, 0x9d, 0xff, 0x00, 0xb4, 0x91, 0xe7, 0x6e, 0xb0, 0x39, 0x53, 0x3e, 0xd3,
        0xb8, 0x44, 0xab, 0x65, 0xa5, 0x10, 0x20, 0xb8, 0x15, 0x0a, 0x3b, 0x4b, 0x24, 0x38, 0xb1, 0xb8, 0x71, 0x67, 0x6d, 0xc7,
        0xf1, 0xf9, 0xe3, 0x25, 0x54, 0xed, 0xea, 0xa2, 0x5c, 0xd7, 0xae, 0x14, 0xe6, 0xf5, 0xb6, 0xad, 0xc1, 0x1b, 0x29, 0x0a,
        0xe1, 0x49, 0x3c, 0x11, 0xf1, 0xe3, 0xa2, 0xd0, 0x6a, 0x2f, 0x6d, 0xdd, 0x8b, 0x07, 0xb8, 0xc2, 0x44, 0x2a, 0xa7, 0x02,
        0x94, 0xa5, 0x61, 0x66, 0x6a, 0xc6, 0x74, 0x9c, 0x91, 0xf4, 0x04, 0x90, 0x0e, 0x77, 0x3b, 0xe7, 0x7c, 0xe9, 0x53, 0x6f,
        0x55, 0x12, 0xe6, 0xbd, 0x70, 0xa7, 0x37, 0xad, 0xb5, 0x6e, 0x08, 0xd9, 0x48, 0x57, 0x0a, 0x49, 0xe0, 0x8f, 0x8f, 0x1d,
        0x1f, 0x6a, 0x97, 0xb9, 0x26, 0xb4, 0xaa, 0xcb, 0x7b, 0x54, 0xa6, 0xb5, 0xb0, 0xa6, 0xcb, 0xac, 0x0c, 0x3f, 0x29, 0x3b,
        0x69, 0xd4, 0x4e, 0x70, 0x38, 0x3c, 0x9c, 0x10, 0x73, 0x9d, 0x5d, 0x25, 0x81, 0x02, 0x25, 0x6c, 0x61, 0x1a, 0x0c, 0x76,
        0xd8, 0x68, 0x7d, 0xa8, 0x18, 0xc9, 0xc0, 0x19, 0x27, 0x93, 0x80, 0x37, 0x3b, 0xf5, 0xff, 0xd9,
    ];
}
