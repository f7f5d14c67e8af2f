//! Streaming batch validation: documents in, one result per document out, in order.
//!
//! One task per stream reads documents and resolves their validators; the documents
//! that have arrived together are validated as a batch, on two tasks when there are
//! enough of them, and their results go through a small bounded channel in order.
//! When the client reads slowly the channel fills, the task stops reading, and HTTP/2
//! flow control pushes back on the client's writes, so memory stays bounded however
//! long the stream runs.
//!
// TODO: the HTTP/2 layer (h2) closes a connection with ENHANCE_YOUR_CALM when it holds
// too many small DATA frames unread, and a client writing thousands of small documents
// one frame each, faster than this task reads, gets there within a burst; the budget
// follows the connection window, which axum's server does not let us raise. Until the
// server is built on hyper directly, clients bound the documents they send ahead of
// their results, as the SDKs do.
//!
//! Results travel in small batches: while more documents have already arrived, their
//! results join the batch, and the batch goes out when none is waiting or it is full.
//! tonic then writes a whole batch in one HTTP/2 frame, where one result at a time
//! would cost a socket write each (the connections run without Nagle's delay). A
//! client that waits for each answer before sending the next gets it at once.

use std::pin::Pin;

use futures::{FutureExt as _, Stream, StreamExt as _};
use ovsr_proto::v1 as pb;
use ovsr_proto::v1::validate_stream_request::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};
use tracing::{debug, warn};

use super::session::{Prepared, ValidationSession};
use crate::error::ApiError;
use crate::grpc::convert::{item_error, output_format, target};
use crate::registry::Registry;
use ovsr_validate::CompileOptions;

/// Most results in one batch.
const BATCH_RESULTS: usize = 32;
/// Most bytes of documents a batch holds unvalidated, so a stream of large documents
/// sends results as often as memory asks.
const BATCH_DOCUMENT_BYTES: usize = 256 * 1024;
/// Batches with at least this many documents are validated on two tasks.
const SPLIT_FROM_DOCUMENTS: usize = 8;
/// Batches computed but not yet taken by the client: with the one being filled, at
/// most 96 results (and 256 KiB of documents) are held per stream.
const BATCHES_IN_FLIGHT: usize = 2;

pub(super) type ResultStream =
    Pin<Box<dyn Stream<Item = Result<pb::ValidateStreamResponse, Status>> + Send>>;

/// Starts the task serving one stream and returns its results.
pub(super) fn serve_stream(
    session: ValidationSession,
    inbound: Streaming<pb::ValidateStreamRequest>,
) -> ResultStream {
    let (results, receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
    tokio::spawn(run_stream(session, inbound, results));
    Box::pin(ReceiverStream::new(receiver).flat_map(futures::stream::iter))
}

type Reply = Result<pb::ValidateStreamResponse, Status>;
type Results = mpsc::Sender<Vec<Reply>>;

/// A message read and not yet answered: an answer already known, or a document
/// whose validator is resolved and which waits to be validated with its batch.
enum Entry {
    Answered(Reply),
    Document {
        sequence: u64,
        text: String,
        prepared: Result<Prepared, ApiError>,
    },
}

async fn run_stream(
    mut session: ValidationSession,
    mut inbound: Streaming<pb::ValidateStreamRequest>,
    results: Results,
) {
    let mut first = true;
    let mut validated: u64 = 0;
    let mut batch = Batch::default();
    loop {
        let message = if batch.entries.is_empty() {
            tokio::select! {
                message = inbound.message() => message,
                // The client went away: stop reading at once.
                () = results.closed() => break,
            }
        } else {
            // Only what has already arrived joins the batch; else it goes out now.
            match inbound.message().now_or_never() {
                Some(message) => message,
                None => {
                    match batch.flush(session.registry(), &results).await {
                        Some(answered) => validated += answered,
                        None => break,
                    }
                    continue;
                }
            }
        };
        let request = match message {
            Ok(Some(request)) => request,
            Ok(None) => break,
            Err(status) => {
                debug!(code = ?status.code(), "validation stream ended by the client");
                break;
            }
        };

        let entry = match request.message {
            Some(Message::Open(open)) if first => match apply_open(&mut session, open) {
                Ok(()) => {
                    first = false;
                    continue;
                }
                Err(err) => Entry::Answered(Err(Status::from(err))),
            },
            Some(Message::Open(_)) => Entry::Answered(Err(Status::from(ApiError::invalid(
                "open",
                "only the first message of a stream may open it",
            )))),
            Some(Message::Document(document)) => prepare_document(&mut session, document).await,
            None => Entry::Answered(Err(Status::from(ApiError::invalid(
                "message",
                "set open or document",
            )))),
        };
        first = false;

        let fatal = matches!(entry, Entry::Answered(Err(_)));
        batch.push(entry);
        if fatal {
            break;
        }
        if batch.is_full() {
            match batch.flush(session.registry(), &results).await {
                Some(answered) => validated += answered,
                None => break,
            }
        }
    }
    if !batch.entries.is_empty() {
        // The client may be gone already; nothing is left to tell it then.
        let _ = batch.flush(session.registry(), &results).await;
    }
    debug!(validated, "validation stream closed");
}

/// The entries read since the last batch of results went out.
#[derive(Default)]
struct Batch {
    entries: Vec<Entry>,
    document_bytes: usize,
}

impl Batch {
    fn push(&mut self, entry: Entry) {
        if let Entry::Document { text, .. } = &entry {
            self.document_bytes += text.len();
        }
        self.entries.push(entry);
    }

    fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_RESULTS || self.document_bytes >= BATCH_DOCUMENT_BYTES
    }

    /// Validates the batch's documents and sends their results, in order; how many
    /// were answered without a fatal error, or None when the client is gone.
    async fn flush(&mut self, registry: &Registry, results: &Results) -> Option<u64> {
        let entries = std::mem::replace(&mut self.entries, Vec::with_capacity(BATCH_RESULTS));
        self.document_bytes = 0;
        let replies = answer_all(entries, registry).await;
        let answered = replies.iter().filter(|reply| reply.is_ok()).count() as u64;
        results.send(replies).await.ok().map(|()| answered)
    }
}

/// Answers every entry in order. A batch with enough documents is split in two and
/// its second half validated on another task, so one stream's validation can use
/// two cores while its answers keep their order.
async fn answer_all(mut entries: Vec<Entry>, registry: &Registry) -> Vec<Reply> {
    let documents = entries
        .iter()
        .filter(|entry| matches!(entry, Entry::Document { .. }))
        .count();
    if documents < SPLIT_FROM_DOCUMENTS {
        return entries
            .into_iter()
            .map(|entry| answer(entry, registry))
            .collect();
    }
    let second = entries.split_off(entries.len() / 2);
    let other = registry.clone();
    let second = tokio::spawn(async move {
        second
            .into_iter()
            .map(|entry| answer(entry, &other))
            .collect::<Vec<_>>()
    });
    let mut replies: Vec<Reply> = entries
        .into_iter()
        .map(|entry| answer(entry, registry))
        .collect();
    match second.await {
        Ok(rest) => replies.extend(rest),
        Err(err) => {
            warn!(error = %err, "validating part of a stream's batch failed");
            replies.push(Err(Status::internal("validating the documents failed")));
        }
    }
    replies
}

fn answer(entry: Entry, registry: &Registry) -> Reply {
    use pb::validate_stream_response::Outcome;
    match entry {
        Entry::Answered(reply) => reply,
        Entry::Document {
            sequence,
            text,
            prepared,
        } => {
            let validated =
                prepared.and_then(|prepared| prepared.validate(registry, &text, "document"));
            let outcome = match validated {
                Ok(result) => Outcome::Result(result),
                Err(err) => Outcome::Error(item_error(err)),
            };
            Ok(pb::ValidateStreamResponse {
                sequence,
                outcome: Some(outcome),
            })
        }
    }
}

/// Applies the opening message's settings to the session.
fn apply_open(
    session: &mut ValidationSession,
    open: pb::ValidateStreamOpen,
) -> Result<(), ApiError> {
    let format = output_format(open.output_format)?;
    let default_target = match open.default_schema {
        Some(selector) => Some(target(Some(selector), "open.default_schema")?),
        None => None,
    };
    let options = CompileOptions {
        assert_formats: open.assert_formats,
        ..CompileOptions::default()
    };
    session.configure(format, options);
    if let Some(default_target) = default_target {
        session.set_default_target(default_target);
    }
    Ok(())
}

/// Charges the caller and resolves the document's validator; the validation itself
/// waits for its batch.
async fn prepare_document(session: &mut ValidationSession, document: pb::StreamDocument) -> Entry {
    use pb::validate_stream_response::Outcome;
    let sequence = document.sequence;
    match admitted_target(session, document.schema) {
        Err(err) => Entry::Answered(Ok(pb::ValidateStreamResponse {
            sequence,
            outcome: Some(Outcome::Error(item_error(err))),
        })),
        Ok(target) => Entry::Document {
            sequence,
            prepared: session.prepare(target).await,
            text: document.document,
        },
    }
}

fn admitted_target(
    session: &ValidationSession,
    schema: Option<pb::SchemaSelector>,
) -> Result<Option<crate::registry::Target>, ApiError> {
    session.admit(1)?;
    match schema {
        Some(selector) => target(Some(selector), "schema").map(Some),
        None => Ok(None),
    }
}
