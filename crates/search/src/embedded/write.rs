//! Writes: upserts, removals, clearing and the checkpoint, each committed at once.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use ovsr_core::SchemaName;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument};
use tracing::debug;

use super::Inner;
use crate::{SearchDocument, SearchError};

/// The index writer and what it needs to commit.
pub(super) struct Writer {
    writer: IndexWriter,
}

impl Writer {
    pub(super) fn new(writer: IndexWriter) -> Self {
        Self { writer }
    }
}

/// The checkpoint stored in the index's last commit; 0 when none was stored.
pub(super) fn stored_checkpoint(index: &Index) -> Result<u64, SearchError> {
    let Some(payload) = index.load_metas()?.payload else {
        return Ok(0);
    };
    payload.parse().map_err(|_| {
        let reason = format!("index commit carries checkpoint {payload:?}, not a number");
        SearchError::Internal(reason)
    })
}

impl Inner {
    pub(super) fn upsert(&self, documents: Vec<SearchDocument>) -> Result<(), SearchError> {
        // Within one batch the highest version of each schema wins; of equal versions,
        // the last given.
        let mut latest: BTreeMap<SchemaName, SearchDocument> = BTreeMap::new();
        for document in documents {
            let keep = latest
                .get(&document.schema)
                .is_none_or(|kept| kept.version <= document.version);
            if keep {
                latest.insert(document.schema.clone(), document);
            }
        }

        let mut writer = self.lock_writer()?;
        // Every write commits and reloads under this lock, so this searcher sees the
        // latest committed state.
        let searcher = self.reader.searcher();
        let mut changed = 0usize;
        for (schema, mut document) in latest {
            let indexed = self.indexed_document(&searcher, &schema)?;
            if let Some(indexed) = &indexed {
                // Reads are counted by `add_reads`; a new version keeps the count.
                document.read_count = document.read_count.max(indexed.read_count);
            }
            if indexed
                .is_some_and(|indexed| indexed.version > document.version || indexed == document)
            {
                continue;
            }
            self.replace(&mut writer, &document)?;
            changed += 1;
        }
        self.commit_if_changed(&mut writer, changed)?;
        debug!(changed, "upserted documents");
        Ok(())
    }

    pub(super) fn add_reads(&self, reads: Vec<(SchemaName, u64)>) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        let searcher = self.reader.searcher();
        let mut changed = 0usize;
        for (schema, count) in reads {
            let Some(mut document) = self.indexed_document(&searcher, &schema)? else {
                continue;
            };
            document.read_count = document.read_count.saturating_add(count);
            self.replace(&mut writer, &document)?;
            changed += 1;
        }
        self.commit_if_changed(&mut writer, changed)?;
        debug!(changed, "added read counts");
        Ok(())
    }

    pub(super) fn remove(&self, schema: &SchemaName) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        writer.writer.delete_term(self.fields.key_term(schema));
        let checkpoint = self.checkpoint.load(Ordering::Acquire);
        self.commit(&mut writer, checkpoint)
    }

    pub(super) fn set_checkpoint(&self, position: u64) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        self.commit(&mut writer, position)
    }

    pub(super) fn clear(&self) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        writer.writer.delete_all_documents()?;
        self.commit(&mut writer, 0)
    }

    /// Stages `document` in place of the schema's indexed one, if any.
    fn replace(&self, writer: &mut Writer, document: &SearchDocument) -> Result<(), SearchError> {
        let tantivy_doc = self.fields.tantivy_document(document)?;
        writer
            .writer
            .delete_term(self.fields.key_term(&document.schema));
        writer.writer.add_document(tantivy_doc)?;
        Ok(())
    }

    /// Commits what was staged, keeping the checkpoint, when anything was.
    fn commit_if_changed(&self, writer: &mut Writer, changed: usize) -> Result<(), SearchError> {
        if changed == 0 {
            return Ok(());
        }
        let checkpoint = self.checkpoint.load(Ordering::Acquire);
        self.commit(writer, checkpoint)
    }

    /// Commits pending changes with `checkpoint` as the commit's payload, then makes
    /// them visible. On failure the pending changes are rolled back, so a later commit
    /// cannot publish half of this one.
    fn commit(&self, writer: &mut Writer, checkpoint: u64) -> Result<(), SearchError> {
        let committed = writer.writer.prepare_commit().and_then(|mut prepared| {
            prepared.set_payload(&checkpoint.to_string());
            prepared.commit()
        });
        if let Err(err) = committed {
            // The rollback's own failure adds nothing the commit error does not say.
            let _ = writer.writer.rollback();
            return Err(err.into());
        }
        self.checkpoint.store(checkpoint, Ordering::Release);
        self.reader.reload()?;
        Ok(())
    }

    fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, Writer>, SearchError> {
        self.writer.lock().map_err(|_| {
            SearchError::Internal("a write panicked while holding the index writer".into())
        })
    }

    fn indexed_document(
        &self,
        searcher: &Searcher,
        schema: &SchemaName,
    ) -> Result<Option<SearchDocument>, SearchError> {
        let query = TermQuery::new(self.fields.key_term(schema), IndexRecordOption::Basic);
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = top.first() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(*address)?;
        self.fields.search_document(&doc).map(Some)
    }
}
