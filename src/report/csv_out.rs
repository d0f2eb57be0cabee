//! The one way stickysim writes CSV: [`CsvOut`], a `csv::Writer` into
//! memory with RFC 4180 quoting where a field needs it (a comma, a quote
//! or a line break) and `\n` line ends. Every CSV file of a run or a sweep
//! is written through it.

/// A CSV file being written row by row into memory.
pub(crate) struct CsvOut(csv::Writer<Vec<u8>>);

impl CsvOut {
    /// A file whose first line is `header`. Every later row must have as
    /// many cells.
    pub(crate) fn with_header<I, T>(header: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        let mut out = CsvOut(w);
        out.row(header);
        out
    }

    /// Appends one row.
    pub(crate) fn row<I, T>(&mut self, cells: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        // Writing into a Vec cannot fail; a row of another width than the
        // header is a bug in the caller.
        self.0
            .write_record(cells)
            .expect("a CSV row has as many cells as the header");
    }

    /// The file's text.
    pub(crate) fn finish(self) -> String {
        let bytes = self
            .0
            .into_inner()
            .expect("flushing into memory cannot fail");
        String::from_utf8(bytes).expect("CSV written from text is text")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut w = CsvOut::with_header(["a", "b", "c", "d"]);
        w.row(["plain", "a,b", "say \"x\"", ""]);
        w.row(["two\nlines", "cr\r", "1.500", "-"]);
        assert_eq!(
            w.finish(),
            "a,b,c,d\nplain,\"a,b\",\"say \"\"x\"\"\",\n\"two\nlines\",\"cr\r\",1.500,-\n"
        );
    }
}
