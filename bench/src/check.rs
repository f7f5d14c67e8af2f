//! Compiles every case on every engine once and checks each document's answer against
//! the corpus's expectation: a real-world conformance count, and the validators the
//! timed rounds reuse.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use ovsr_validate::{CompileOptions, CompiledSchema, Engine, OutputFormat};
use serde::Serialize;

use crate::corpus::{Corpus, NotingResolver};

/// How one engine did on the corpus.
#[derive(Debug, Default, Serialize)]
pub struct EngineTally {
    /// Schemas compiled.
    pub compiled: usize,
    /// Schemas refused, by the first words of the reason.
    pub refused: BTreeMap<String, usize>,
    /// Documents answered as the corpus expects (format-dependent ones aside).
    pub right: usize,
    /// Documents answered otherwise.
    pub wrong: usize,
    /// Format-dependent documents answered as expected with format assertion off.
    pub format_dependent_right: usize,
    /// Format-dependent documents checked.
    pub format_dependent: usize,
    /// Time to compile every schema once, references resolved from memory.
    #[serde(skip)]
    pub compile_time: Duration,
}

/// Every engine's validators and tallies.
#[derive(Debug)]
pub struct Checked {
    /// Per engine (in [`Engine::ALL`] order), per case: the validator, if it compiled.
    pub validators: Vec<Vec<Option<CompiledSchema>>>,
    /// Per engine, in the same order.
    pub tallies: Vec<EngineTally>,
    /// Per case: the documents its references pulled in, by URL.
    pub references: Vec<BTreeMap<String, PathBuf>>,
    /// Per engine, per case: why it did not compile.
    pub refusals: Vec<Vec<Option<String>>>,
}

/// Compiles and checks every case of `corpus` on every engine.
pub fn check_corpus(corpus: &Corpus) -> Checked {
    let mut checked = Checked {
        validators: Vec::new(),
        tallies: Vec::new(),
        references: vec![BTreeMap::new(); corpus.cases.len()],
        refusals: Vec::new(),
    };
    for engine in Engine::ALL {
        let mut tally = EngineTally::default();
        let mut validators = Vec::new();
        let mut refusals = Vec::new();
        for (index, case) in corpus.cases.iter().enumerate() {
            let resolver = NotingResolver::new(&corpus.resolver);
            let options = options_for(engine);
            let started = Instant::now();
            let compiled = block_on(CompiledSchema::compile(
                &case.url,
                &case.schema,
                &resolver,
                options,
            ));
            tally.compile_time += started.elapsed();
            checked.references[index].extend(resolver.found());
            match compiled {
                Ok(compiled) => {
                    tally.compiled += 1;
                    tally_documents(&compiled, &case.documents, &mut tally);
                    validators.push(Some(compiled));
                    refusals.push(None);
                }
                Err(err) => {
                    *tally
                        .refused
                        .entry(reason_kind(&err.to_string()))
                        .or_default() += 1;
                    validators.push(None);
                    refusals.push(Some(err.to_string()));
                }
            }
        }
        checked.validators.push(validators);
        checked.tallies.push(tally);
        checked.refusals.push(refusals);
    }
    checked
}

/// The options the benchmark compiles with: the server's defaults on `engine`.
pub fn options_for(engine: Engine) -> CompileOptions {
    CompileOptions {
        engine,
        ..CompileOptions::default()
    }
}

fn tally_documents(
    compiled: &CompiledSchema,
    documents: &[crate::corpus::Document],
    tally: &mut EngineTally,
) {
    for document in documents {
        let valid = compiled.validate(&document.value, OutputFormat::Flag).valid;
        let right = valid == document.expected_valid;
        if document.format_dependent {
            tally.format_dependent += 1;
            tally.format_dependent_right += usize::from(right);
        } else if right {
            tally.right += 1;
        } else {
            tally.wrong += 1;
        }
    }
}

/// A refusal's category: the error up to the first quote or colon after its opening.
fn reason_kind(reason: &str) -> String {
    let lowered = reason.to_lowercase();
    let kind = if lowered.contains("outside the registry") {
        "reference outside the corpus"
    } else if lowered.contains("regex") || lowered.contains("pattern") {
        "pattern refused"
    } else if lowered.contains("names no schema") {
        "reference to a missing schema"
    } else if lowered.contains("not a valid json schema") {
        "schema invalid"
    } else {
        "other"
    };
    kind.to_owned()
}
