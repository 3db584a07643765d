//! Byte offsets to the 1-based lines and columns the facts report.

/// Byte offset → 1-based line and column.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(code: &str) -> LineIndex {
        let mut starts = vec![0];
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    pub(super) fn column_of(&self, code: &str, offset: usize) -> usize {
        let start = self.starts[self.line_of(offset) - 1];
        code.get(start..offset.min(code.len()))
            .map_or(1, |s| s.chars().count() + 1)
    }

    pub(super) fn line_count(&self) -> usize {
        self.starts.len()
    }
}
