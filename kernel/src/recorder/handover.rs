//! Handing a finished execution to the writer thread, and the held idles released once it is
//! committed: at once after the commit, or after the live warnings were read from it.

use std::sync::atomic::Ordering;

use chrono::Utc;
use provstore::{ExecStatus, ExecutionRecord};
use std::collections::VecDeque;

use super::outputs::dataflow_record;
use super::{warnings, Hold, Recorder, LATE_NOTES};

impl Recorder {
    /// An idle of no execution in flight: if it is a late idle of one just recorded, it waits
    /// until the writer has everything handed to it so far; otherwise it goes at once.
    pub(super) fn release_after_writer(&self, msg_id: &str, hold: Hold) {
        if self.recent.iter().any(|id| id == msg_id) {
            self.writer.after_written(Box::new(move || {
                let _ = hold.send(Vec::new());
            }));
        }
    }

    /// Records execution `seq`: hands it to the writer, with its held idles released once
    /// it is committed.
    pub(super) fn record(&mut self, seq: u64) {
        let Some(exec) = self.in_flight.remove(&seq) else {
            return;
        };
        let (status, error) = exec.reply.unwrap_or((ExecStatus::Aborted, None));
        let (header, msg_id) = (exec.header.clone(), exec.msg_id.clone());
        let ended_at = exec.idle_at.map_or_else(Utc::now, |(at, _)| at);
        let dataflow = dataflow_record(error.as_ref(), exec.runtime.as_ref());
        if status == ExecStatus::Error && exec.runtime.is_none() {
            push_bounded(&mut self.late_notes, exec.msg_id.clone(), LATE_NOTES);
        }
        push_bounded(&mut self.recent, exec.msg_id.clone(), LATE_NOTES);
        let mut outputs = exec.outputs;
        outputs.extend(exec.magic_outputs);
        let record = ExecutionRecord {
            msg_id: exec.msg_id,
            execution_count: exec.execution_count,
            cell_id: exec.cell_id,
            code: exec.code,
            code_replaced: exec.code_replaced,
            started_at: exec.started_at.unwrap_or(exec.requested_at),
            ended_at,
            status,
            error,
            outputs,
            dataflow: Some(dataflow),
        };
        let holds = exec.holds;
        let on_commit = self.on_commit.clone();
        if holds.is_empty() || self.warnings.load(Ordering::Relaxed) {
            match on_commit {
                Some(told) => self.writer.record_then(record, Box::new(move || told())),
                None => self.writer.record(record),
            }
            if !holds.is_empty() {
                let author = self.author.clone();
                warnings::check_then_release(&self.writer, author, header, msg_id, holds);
            }
        } else {
            let released = move || {
                warnings::release(holds, None);
                if let Some(told) = on_commit {
                    told();
                }
            };
            self.writer.record_then(record, Box::new(released));
        }
    }
}

fn push_bounded(queue: &mut VecDeque<String>, msg_id: String, max: usize) {
    if queue.len() == max {
        queue.pop_front();
    }
    queue.push_back(msg_id);
}
