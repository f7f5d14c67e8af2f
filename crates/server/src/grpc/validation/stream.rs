//! Streaming batch validation: documents in, one result per document out, in order.
//!
//! One task per stream reads a document, validates it and sends its result through a
//! small bounded channel. When the client reads slowly the channel fills, the task
//! stops reading, and HTTP/2 flow control pushes back on the client's writes, so memory
//! stays bounded however long the stream runs.
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
use tracing::debug;

use super::session::ValidationSession;
use crate::error::ApiError;
use crate::grpc::convert::{item_error, output_format, target};
use ovsr_validate::CompileOptions;

/// Most results in one batch.
const BATCH_RESULTS: usize = 32;
/// Batches computed but not yet taken by the client: with the one being filled, at
/// most 96 results are held per stream.
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

async fn run_stream(
    mut session: ValidationSession,
    mut inbound: Streaming<pb::ValidateStreamRequest>,
    results: Results,
) {
    let mut first = true;
    let mut validated: u64 = 0;
    let mut batch: Vec<Reply> = Vec::with_capacity(BATCH_RESULTS);
    loop {
        let message = if batch.is_empty() {
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
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RESULTS));
                    if results.send(full).await.is_err() {
                        break;
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

        let reply = match request.message {
            Some(Message::Open(open)) if first => match apply_open(&mut session, open) {
                Ok(()) => {
                    first = false;
                    continue;
                }
                Err(err) => Err(Status::from(err)),
            },
            Some(Message::Open(_)) => Err(Status::from(ApiError::invalid(
                "open",
                "only the first message of a stream may open it",
            ))),
            Some(Message::Document(document)) => {
                Ok(validate_document(&mut session, document).await)
            }
            None => Err(Status::from(ApiError::invalid(
                "message",
                "set open or document",
            ))),
        };
        first = false;

        let fatal = reply.is_err();
        validated += u64::from(!fatal);
        batch.push(reply);
        if fatal {
            break;
        }
        if batch.len() == BATCH_RESULTS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RESULTS));
            if results.send(full).await.is_err() {
                break;
            }
        }
    }
    if !batch.is_empty() {
        // The client may be gone already; nothing is left to tell it then.
        let _ = results.send(batch).await;
    }
    debug!(validated, "validation stream closed");
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

async fn validate_document(
    session: &mut ValidationSession,
    document: pb::StreamDocument,
) -> pb::ValidateStreamResponse {
    use pb::validate_stream_response::Outcome;
    let sequence = document.sequence;
    let outcome = match admitted_target(session, document.schema) {
        Err(err) => Outcome::Error(item_error(err)),
        Ok(target) => match session
            .validate_one(target, &document.document, "document")
            .await
        {
            Ok(result) => Outcome::Result(result),
            Err(error) => Outcome::Error(error),
        },
    };
    pb::ValidateStreamResponse {
        sequence,
        outcome: Some(outcome),
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
