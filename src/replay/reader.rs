//! A log file read line by line as it is needed, gzip or not (a gzip
//! file is recognised by its magic bytes, whatever its name; concatenated
//! members, as `logrotate` and ALB write them, are read through), with a
//! cap on a line's length so a file without line breaks cannot exhaust
//! memory.

use super::parse::{BadLine, Parser, Record};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// The longest line read, bytes; a longer one is skipped as bad.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Lines from a file, plain or gzip.
pub struct LineReader {
    inner: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    /// The number of the line last returned (1-based).
    pub line_no: u64,
    /// Bytes read from the (decompressed) stream.
    pub bytes: u64,
}

/// One line from [`LineReader::next_line`].
pub enum Line<'a> {
    /// Its text (without the line break; invalid UTF-8 replaced).
    Text(&'a str),
    /// Longer than [`MAX_LINE_BYTES`]: skipped.
    TooLong,
}

impl LineReader {
    /// Opens `path`, decompressing when it starts with gzip's magic bytes.
    pub fn open(path: &Path) -> io::Result<LineReader> {
        let mut f = BufReader::with_capacity(256 * 1024, File::open(path)?);
        let gz = f.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let inner: Box<dyn BufRead + Send> = if gz {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::bufread::MultiGzDecoder::new(f),
            ))
        } else {
            Box::new(f)
        };
        Ok(LineReader::new(inner))
    }

    /// Lines from any reader (tests, benches).
    pub fn new(inner: Box<dyn BufRead + Send>) -> LineReader {
        LineReader {
            inner,
            buf: Vec::with_capacity(1024),
            line_no: 0,
            bytes: 0,
        }
    }

    /// Lines from bytes in memory (tests, benches).
    pub fn from_bytes(bytes: Vec<u8>) -> LineReader {
        LineReader::new(Box::new(io::Cursor::new(bytes)))
    }

    /// The next line, `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE_BYTES + 2 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            self.bytes += take as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        if too_long {
            return Ok(Some(Line::TooLong));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        if std::str::from_utf8(&self.buf).is_err() {
            let fixed = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf = fixed.into_bytes();
        }
        // Checked (or made) valid just above.
        let text = std::str::from_utf8(&self.buf).unwrap_or_default();
        Ok(Some(Line::Text(text)))
    }
}

/// Parsed records from a log, with their line numbers: the streaming
/// parser that `replay` and other readers of a log share. Blank lines are
/// passed over; a bad line comes back as `Err` with what did not parse.
pub struct LogReader {
    lines: LineReader,
    parser: Parser,
}

/// One item of [`LogReader::next_record`].
pub enum Item<'a> {
    /// A parsed line.
    Record(Record<'a>),
    /// A line that did not parse.
    Bad(BadLine),
}

impl LogReader {
    /// Records of `lines` parsed by `parser`.
    pub fn new(lines: LineReader, parser: Parser) -> Self {
        LogReader { lines, parser }
    }

    /// The number of the line last returned (1-based).
    pub fn line_no(&self) -> u64 {
        self.lines.line_no
    }

    /// Bytes read so far (after decompression).
    pub fn bytes(&self) -> u64 {
        self.lines.bytes
    }

    /// The parser.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The next non-blank line, parsed; `None` at the end of the file.
    pub fn next_record(&mut self) -> io::Result<Option<Item<'_>>> {
        loop {
            match self.lines.next_line()? {
                None => return Ok(None),
                Some(Line::TooLong) => {
                    return Ok(Some(Item::Bad(BadLine {
                        field: "line",
                        expected: "at most 65536 bytes",
                        found: "a longer line".into(),
                    })))
                }
                Some(Line::Text(t)) if t.trim().is_empty() => continue,
                Some(Line::Text(_)) => break,
            }
        }
        // Re-borrow the line just read (the loop above cannot return a
        // borrow it keeps looping past).
        let text = std::str::from_utf8(&self.lines.buf).unwrap_or_default();
        Ok(Some(match self.parser.parse(text) {
            Ok(r) => Item::Record(r),
            Err(b) => Item::Bad(b),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::parse::{Format, JsonFields};
    use std::io::Write;

    fn combined() -> Parser {
        Parser::new(Format::Combined, JsonFields::default(), None)
    }

    const LINE: &str =
        r#"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "ua""#;

    #[test]
    fn lines_numbered_blank_skipped_bad_reported_crlf_trimmed() {
        let text = format!("{LINE}\r\n\n{LINE}\nnot a line\n{LINE}");
        let mut r = LogReader::new(LineReader::from_bytes(text.into_bytes()), combined());
        let mut seen = Vec::new();
        while let Some(item) = r.next_record().unwrap() {
            let ok = matches!(item, Item::Record(_));
            seen.push((r.line_no(), ok));
        }
        assert_eq!(seen, [(1, true), (3, true), (4, false), (5, true)]);
    }

    #[test]
    fn gzip_is_read_transparently_and_long_lines_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access.log.1");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for _ in 0..3 {
            writeln!(gz, "{LINE}").unwrap();
        }
        let mut bytes = gz.finish().unwrap();
        // A second gzip member, as rotated logs concatenate them.
        let mut gz2 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(gz2, "{LINE}").unwrap();
        bytes.extend(gz2.finish().unwrap());
        std::fs::write(&p, bytes).unwrap();
        let mut r = LogReader::new(LineReader::open(&p).unwrap(), combined());
        let mut n = 0;
        while let Some(item) = r.next_record().unwrap() {
            assert!(matches!(item, Item::Record(_)));
            n += 1;
        }
        assert_eq!(n, 4);
        let long = format!("{}\n{LINE}\n", "x".repeat(MAX_LINE_BYTES * 3));
        let mut r = LogReader::new(LineReader::from_bytes(long.into_bytes()), combined());
        assert!(matches!(r.next_record().unwrap(), Some(Item::Bad(_))));
        assert!(matches!(r.next_record().unwrap(), Some(Item::Record(_))));
        assert_eq!(r.line_no(), 2);
        assert!(r.next_record().unwrap().is_none());
    }
}
