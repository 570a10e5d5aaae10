//! The check an upload passes as it arrives, chunk by chunk, in constant
//! memory: the encoding (UTF-8, a UTF-8 byte order mark skipped), no row
//! longer than the largest body the API takes, a CSV header whose columns
//! are all known; and how many rows the file has. A file that fails is
//! refused before any row is written.

use csv_core::{ReadRecordResult, Reader};

use super::Format;
use super::columns::Columns;
use crate::domain::invalid::InvalidField;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// The most columns a header may have.
const MAX_COLUMNS: usize = 256;

/// Why a file is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Not UTF-8 (UTF-16 and other encodings included).
    Encoding(String),
    /// A row longer than the API's largest body.
    RowTooLong { row: i64, max: usize },
    /// The CSV header's problems (unknown or repeated columns).
    Header(Vec<InvalidField>),
}

impl Unreadable {
    /// The complaints a 422 names.
    pub fn invalid_fields(self) -> Vec<InvalidField> {
        let one = |field: &str, message: String| {
            vec![InvalidField {
                field: field.into(),
                message,
            }]
        };
        match self {
            Self::Encoding(message) => one("file", message),
            Self::RowTooLong { row, max } => one(
                "file",
                format!("row {row} is longer than {max} bytes, the most a row may have"),
            ),
            Self::Header(fields) => fields,
        }
    }
}

/// What the check found in a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Where the first row starts: after a byte order mark and a header.
    pub data_start: u64,
    pub rows: i64,
    /// A CSV file's header.
    pub header: Option<Vec<String>>,
}

/// The check of one file, fed its bytes in order.
pub struct Scan {
    format: Format,
    max_row: usize,
    offset: u64,
    data_start: u64,
    /// The first bytes, until there are enough to tell a byte order mark.
    head: Vec<u8>,
    started: bool,
    /// The end of a character cut by the end of the last chunk.
    carry: Vec<u8>,
    csv: Reader,
    header: Option<Vec<String>>,
    /// The header's cells so far, and their ends.
    header_bytes: Vec<u8>,
    header_ends: Vec<usize>,
    /// The length of the row being read, and whether it holds anything.
    row_bytes: usize,
    row_filled: bool,
    /// Records (CSV, the header among them) or non-blank lines (NDJSON).
    records: i64,
    scratch: Vec<u8>,
    ends: Vec<usize>,
}

impl Scan {
    pub fn new(format: Format, max_row: usize) -> Self {
        Self {
            format,
            max_row,
            offset: 0,
            data_start: 0,
            head: Vec::new(),
            started: false,
            carry: Vec::new(),
            csv: Reader::new(),
            header: None,
            header_bytes: Vec::new(),
            header_ends: Vec::new(),
            row_bytes: 0,
            row_filled: false,
            records: 0,
            scratch: vec![0; 64 * 1024],
            ends: vec![0; MAX_COLUMNS + 1],
        }
    }

    /// Checks the next bytes of the file.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Unreadable> {
        if !self.started {
            self.head.extend_from_slice(bytes);
            if self.head.len() < BOM.len() {
                return Ok(());
            }
            return self.start();
        }
        self.check(bytes)
    }

    /// Checks the end of the file; what it found.
    pub fn finish(mut self) -> Result<Scanned, Unreadable> {
        if !self.started {
            self.start()?;
        }
        if !self.carry.is_empty() {
            return Err(Unreadable::Encoding(format!(
                "the file is not UTF-8: it ends inside a character (byte {})",
                self.offset
            )));
        }
        match self.format {
            Format::Csv => self.csv_bytes(&[])?,
            Format::Ndjson => self.end_line()?,
        }
        let rows = match self.format {
            Format::Csv => (self.records - 1).max(0),
            Format::Ndjson => self.records,
        };
        if self.format == Format::Csv && self.header.is_none() {
            return Err(Unreadable::Header(vec![InvalidField {
                field: "header".into(),
                message: "the file has no header row".into(),
            }]));
        }
        Ok(Scanned {
            data_start: self.data_start,
            rows,
            header: self.header,
        })
    }

    fn start(&mut self) -> Result<(), Unreadable> {
        self.started = true;
        let head = std::mem::take(&mut self.head);
        if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            return Err(Unreadable::Encoding(
                "the file is UTF-16: send it as UTF-8".into(),
            ));
        }
        let rest = match head.strip_prefix(BOM) {
            Some(rest) => {
                self.offset = BOM.len() as u64;
                self.data_start = self.offset;
                rest
            }
            None => &head[..],
        };
        self.check(rest)
    }

    fn check(&mut self, bytes: &[u8]) -> Result<(), Unreadable> {
        self.utf8(bytes)?;
        match self.format {
            Format::Csv => self.csv_bytes(bytes),
            Format::Ndjson => self.ndjson_bytes(bytes),
        }
    }

    /// Checks that the bytes continue UTF-8 text, a character cut at their
    /// end carried to the next.
    fn utf8(&mut self, bytes: &[u8]) -> Result<(), Unreadable> {
        let mut joined = std::mem::take(&mut self.carry);
        let text: &[u8] = match joined.is_empty() {
            true => bytes,
            false => {
                joined.extend_from_slice(bytes);
                &joined
            }
        };
        match std::str::from_utf8(text) {
            Ok(_) => Ok(()),
            Err(error) if error.error_len().is_none() => {
                self.carry = text[error.valid_up_to()..].to_vec();
                Ok(())
            }
            Err(error) => {
                let at = self.offset + error.valid_up_to() as u64;
                Err(Unreadable::Encoding(format!(
                    "the file is not UTF-8: byte {at} starts no character"
                )))
            }
        }
    }

    fn csv_bytes(&mut self, mut input: &[u8]) -> Result<(), Unreadable> {
        let at_end = input.is_empty();
        loop {
            let (result, read, written, ended) =
                self.csv
                    .read_record(input, &mut self.scratch, &mut self.ends);
            input = &input[read..];
            self.offset += read as u64;
            self.row_bytes += read;
            if self.header.is_none() {
                // The ends csv_core gives are from the record's start,
                // however many calls it spans.
                self.header_bytes
                    .extend_from_slice(&self.scratch[..written]);
                self.header_ends.extend_from_slice(&self.ends[..ended]);
            }
            if self.row_bytes > self.max_row {
                return Err(Unreadable::RowTooLong {
                    row: self.records,
                    max: self.max_row,
                });
            }
            match result {
                ReadRecordResult::InputEmpty if !at_end => return Ok(()),
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {}
                ReadRecordResult::OutputEndsFull => {
                    if self.header.is_none() {
                        return Err(Unreadable::Header(vec![InvalidField {
                            field: "header".into(),
                            message: format!("has more than {MAX_COLUMNS} columns"),
                        }]));
                    }
                }
                ReadRecordResult::Record => {
                    self.records += 1;
                    self.row_bytes = 0;
                    if self.header.is_none() {
                        self.read_header()?;
                    }
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    /// The header just read: every column known, else refused.
    fn read_header(&mut self) -> Result<(), Unreadable> {
        let mut names = Vec::with_capacity(self.header_ends.len());
        let mut start = 0;
        for end in &self.header_ends {
            let cell = String::from_utf8_lossy(&self.header_bytes[start..*end]);
            names.push(cell.into_owned());
            start = *end;
        }
        Columns::parse(&names).map_err(Unreadable::Header)?;
        self.header = Some(names);
        self.data_start = self.offset;
        self.header_bytes = Vec::new();
        Ok(())
    }

    fn ndjson_bytes(&mut self, bytes: &[u8]) -> Result<(), Unreadable> {
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            self.row_bytes += chunk.len();
            self.row_filled |= chunk.iter().any(|b| !b.is_ascii_whitespace());
            if self.row_bytes > self.max_row {
                return Err(Unreadable::RowTooLong {
                    row: self.records + 1,
                    max: self.max_row,
                });
            }
            self.offset += chunk.len() as u64;
            if chunk.ends_with(b"\n") {
                self.end_line()?;
            }
        }
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), Unreadable> {
        self.records += i64::from(self.row_filled);
        self.row_bytes = 0;
        self.row_filled = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(format: Format, chunks: &[&[u8]]) -> Result<Scanned, Unreadable> {
        let mut scan = Scan::new(format, 64);
        for chunk in chunks {
            scan.feed(chunk)?;
        }
        scan.finish()
    }

    #[test]
    fn counts_csv_rows_across_chunks_with_quoted_newlines_and_crlf() {
        let scanned = scan(
            Format::Csv,
            &[
                b"\xEF\xBB",
                b"\xBFemail,firstName\r\na@b.co,\"Jane\r\n",
                b"Doe\"\r\nc@d.co,Jo",
            ],
        )
        .unwrap();
        assert_eq!(scanned.rows, 2);
        assert_eq!(scanned.header.unwrap(), ["email", "firstName"]);
        // csv_core ends a record at its CR; the LF then opens the next one.
        assert_eq!(scanned.data_start, 3 + 16);
    }

    #[test]
    fn refuses_unknown_columns_other_encodings_and_long_rows() {
        assert!(matches!(
            scan(Format::Csv, &[b"email,nickname\n"]),
            Err(Unreadable::Header(fields)) if fields[0].field == "nickname"
        ));
        assert!(matches!(
            scan(Format::Csv, &[b"email\n\xE9t\xE9@b.co\n"]),
            Err(Unreadable::Encoding(_))
        ));
        assert!(matches!(
            scan(Format::Ndjson, &[b"\xFF\xFE{\x00"]),
            Err(Unreadable::Encoding(_))
        ));
        let long = format!("email\n{}\n", "a".repeat(100));
        assert_eq!(
            scan(Format::Csv, &[long.as_bytes()]),
            Err(Unreadable::RowTooLong { row: 1, max: 64 })
        );
        assert!(matches!(
            scan(Format::Csv, &[b""]),
            Err(Unreadable::Header(_))
        ));
    }

    #[test]
    fn a_header_cut_between_chunks_or_without_a_line_end_is_whole() {
        let scanned = scan(Format::Csv, &[b"ema", b"il,firstN", b"ame"]).unwrap();
        assert_eq!(scanned.header.unwrap(), ["email", "firstName"]);
        assert_eq!(scanned.rows, 0);
        assert!(matches!(
            scan(Format::Csv, &[b"{}"]),
            Err(Unreadable::Header(fields)) if fields[0].field == "{}"
        ));
        let scanned = scan(Format::Csv, &[b"email,first", b"Name\na@b.co,Jo"]).unwrap();
        assert_eq!(scanned.header.unwrap(), ["email", "firstName"]);
        assert_eq!(scanned.rows, 1);
    }

    #[test]
    fn a_character_cut_between_chunks_is_whole() {
        let scanned = scan(
            Format::Ndjson,
            &[b"{\"firstName\":\"J\xC3", b"\xA9\"}\n\n{}"],
        )
        .unwrap();
        assert_eq!(scanned.rows, 2);
    }
}
