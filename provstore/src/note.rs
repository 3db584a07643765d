//! The runtime probe's note as `execution_dataflow.runtime` keeps it: the JSON text, or, for a
//! note over [`DEFLATE_OVER`] bytes, that text deflated (a zlib stream, as a BLOB). A cell
//! binding thousands of names sends a note of about 50 bytes per name, mostly names, types and
//! small values that repeat; deflated it takes a sixth of that, and re-running such a cell is
//! what makes notes add up. Small notes stay text, readable as they are.

use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use rusqlite::types::{Value, ValueRef};

/// Notes longer than this are stored deflated.
const DEFLATE_OVER: usize = 4096;

/// The column value that stores `note`.
pub(crate) fn stored(note: &str) -> Value {
    if note.len() <= DEFLATE_OVER {
        return Value::Text(note.to_string());
    }
    let mut z = ZlibEncoder::new(Vec::with_capacity(note.len() / 4), Compression::default());
    // Writing to a Vec cannot fail.
    z.write_all(note.as_bytes()).expect("deflating into memory");
    Value::Blob(z.finish().expect("deflating into memory"))
}

/// The note a `runtime` column holds: None for NULL, and for anything that is not a note (a
/// number, a BLOB that does not inflate to UTF-8 text), skipped as a malformed note is.
pub(crate) fn read(column: ValueRef<'_>) -> rusqlite::Result<Option<String>> {
    Ok(match column {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => {
            let mut text = String::new();
            ZlibDecoder::new(b)
                .read_to_string(&mut text)
                .ok()
                .map(|_| text)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_notes_stay_text_and_large_ones_come_back_whole() {
        let small = r#"{"bound": [], "deleted": []}"#;
        assert_eq!(stored(small), Value::Text(small.to_string()));
        let entries: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    r#"["x{i}", {}, {{"type": "int", "value": {i}}}]"#,
                    140_000_000 + i * 32
                )
            })
            .collect();
        let large = format!(r#"{{"bound": [{}], "deleted": []}}"#, entries.join(", "));
        let Value::Blob(blob) = stored(&large) else {
            panic!("a large note is deflated");
        };
        assert!(
            blob.len() * 3 < large.len(),
            "{} of {} bytes",
            blob.len(),
            large.len()
        );
        assert_eq!(
            read(ValueRef::Blob(&blob)).unwrap().as_deref(),
            Some(large.as_str())
        );
        assert_eq!(
            read(ValueRef::Text(small.as_bytes())).unwrap().as_deref(),
            Some(small)
        );
        assert_eq!(read(ValueRef::Null).unwrap(), None);
        assert_eq!(read(ValueRef::Blob(b"not a zlib stream")).unwrap(), None);
        assert_eq!(read(ValueRef::Integer(7)).unwrap(), None);
    }
}
