//! Reads a file's rows from a place in it (where the last committed batch
//! ended), each as a customer body or the reasons it cannot be one.

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::Format;
use super::columns::Columns;
use crate::domain::customer::is_read_only;
use crate::domain::invalid::{InvalidField, InvalidFields};

/// One row: its number, the offset just after it, and its body.
#[derive(Debug)]
pub struct Row {
    pub number: i64,
    pub end: u64,
    pub body: Result<Map<String, Value>, Vec<InvalidField>>,
}

/// Where reading starts: the offset of a row and that row's number less
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub offset: u64,
    pub row: i64,
}

/// Reads up to `limit` rows of `input`, which starts at `from`.
pub fn read<R: Read>(
    format: Format,
    columns: Option<&Columns>,
    input: R,
    from: Place,
    limit: usize,
) -> Result<Vec<Row>, std::io::Error> {
    match (format, columns) {
        (Format::Csv, Some(columns)) => read_csv(columns, input, from, limit),
        (Format::Csv, None) => Err(std::io::Error::other("a CSV import without its header")),
        (Format::Ndjson, _) => read_ndjson(input, from, limit),
    }
}

fn read_csv<R: Read>(
    columns: &Columns,
    input: R,
    from: Place,
    limit: usize,
) -> Result<Vec<Row>, std::io::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut rows = Vec::with_capacity(limit);
    let mut number = from.row;
    while rows.len() < limit && reader.read_byte_record(&mut record).map_err(csv_error)? {
        number += 1;
        let end = from.offset + reader.position().byte();
        let cells: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let body = match cells {
            Ok(cells) => columns.body(&cells),
            Err(_) => Err(vec![InvalidField {
                field: "row".into(),
                message: "is not UTF-8".into(),
            }]),
        };
        rows.push(Row { number, end, body });
    }
    Ok(rows)
}

fn csv_error(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

fn read_ndjson<R: Read>(input: R, from: Place, limit: usize) -> Result<Vec<Row>, std::io::Error> {
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let mut rows = Vec::with_capacity(limit);
    let (mut offset, mut number) = (from.offset, from.row);
    let mut line = Vec::new();
    while rows.len() < limit {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        offset += read as u64;
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        rows.push(Row {
            number,
            end: offset,
            body: line_body(&line),
        });
    }
    Ok(rows)
}

/// A line of NDJSON as a customer body: one object, whose read-only fields
/// (those of this service's export: `id`, `createdTime`) are left out.
fn line_body(line: &[u8]) -> Result<Map<String, Value>, Vec<InvalidField>> {
    let mut errors = InvalidFields::default();
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(mut body)) => {
            body.retain(|name, _| !is_read_only(name));
            Ok(body)
        }
        Ok(_) => {
            errors.push("row", "must be a JSON object");
            errors.into_result(Map::new())
        }
        Err(error) => {
            errors.push("row", format!("is not JSON: {error}"));
            errors.into_result(Map::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_resume_where_a_batch_ended() {
        let file = "email,firstName\r\na@b.co,\"Jane\r\nDoe\"\r\nbad,\r\nc@d.co,Jo\r\n";
        let columns = Columns::parse(&["email".into(), "firstName".into()]).unwrap();
        let start = Place { offset: 17, row: 0 };
        let first = read(
            Format::Csv,
            Some(&columns),
            &file.as_bytes()[17..],
            start,
            2,
        )
        .unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].body.as_ref().unwrap()["firstName"], "Jane\r\nDoe");
        let place = Place {
            offset: first[1].end,
            row: first[1].number,
        };
        let rest = &file.as_bytes()[place.offset as usize..];
        let second = read(Format::Csv, Some(&columns), rest, place, 10).unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].number, 3);
        assert_eq!(second[0].body.as_ref().unwrap()["email"], "c@d.co");
        // The record ends at its CR; what is left, an LF, reads as no row.
        assert_eq!(second[0].end as usize, file.len() - 1);
        let tail = &file.as_bytes()[file.len() - 1..];
        let place = Place {
            offset: second[0].end,
            row: 3,
        };
        assert!(
            read(Format::Csv, Some(&columns), tail, place, 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn ndjson_rows_are_numbered_by_line() {
        let file = b"{\"id\":\"cus_x\",\"email\":\"a@b.co\"}\n\n[1]\nnope\n";
        let rows = read(
            Format::Ndjson,
            None,
            &file[..],
            Place { offset: 0, row: 0 },
            10,
        )
        .unwrap();
        let numbers: Vec<i64> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 3, 4]);
        assert!(!rows[0].body.as_ref().unwrap().contains_key("id"));
        assert_eq!(rows[1].body.as_ref().unwrap_err()[0].field, "row");
        assert_eq!(rows[2].body.as_ref().unwrap_err()[0].field, "row");
    }
}
