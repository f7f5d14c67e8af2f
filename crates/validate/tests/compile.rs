//! Compiling and validating, with references resolved through a registry stand-in
//! made of plain documents.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use ovsr_core::CanonicalDocument;
use ovsr_validate::{
    CompileOptions, CompiledSchema, Dialect, OutputFormat, RegistryResolver, Resolution,
    SchemaError, ValidatorCache, ValidatorKey,
};
use serde_json::{Value, json};

const BASE: &str = "http://registry.test";

#[derive(Default)]
struct Documents {
    by_url: HashMap<String, Value>,
    lookups: AtomicUsize,
}

/// Stands in for the registry: registry URLs under `BASE`, nothing else.
#[async_trait]
impl RegistryResolver for Documents {
    async fn resolve(&self, url: &str) -> Result<Resolution, String> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if let Some(value) = self.by_url.get(url) {
            return Ok(Resolution::Found(value.clone()));
        }
        let resolution = match url.strip_prefix(BASE) {
            None => Resolution::Outside,
            Some(path) if path.ends_with("/latest") => Resolution::Unpinned,
            Some(_) => Resolution::Missing,
        };
        Ok(resolution)
    }
}

async fn compile(
    url: &str,
    schema: Value,
    docs: &Documents,
) -> Result<CompiledSchema, SchemaError> {
    CompiledSchema::compile(url, &schema, docs, CompileOptions::default()).await
}

#[tokio::test]
async fn relative_and_absolute_registry_refs_resolve() {
    let mut docs = Documents::default();
    let customer = json!({"type": "object", "required": ["id"]});
    docs.by_url
        .insert(format!("{BASE}/schemas/acme/customer/1"), customer);
    let order = json!({
        "properties": {
            "buyer": {"$ref": "../customer/1"},
            "seller": {"$ref": format!("{BASE}/schemas/acme/customer/1")}
        }
    });
    let compiled = compile(&format!("{BASE}/schemas/acme/order/1"), order, &docs)
        .await
        .unwrap();

    let good = json!({"buyer": {"id": 1}, "seller": {"id": 2}});
    assert!(compiled.validate(&good, OutputFormat::Basic).valid);
    let bad = compiled.validate(&json!({"seller": {}}), OutputFormat::Basic);
    assert!(!bad.valid);
    let failure = bad
        .errors
        .iter()
        .find(|e| e.instance_location == "/seller")
        .unwrap();
    assert!(failure.keyword_location.contains("$ref"), "{failure:?}");
    assert!(
        failure
            .absolute_keyword_location
            .contains("/schemas/acme/customer/1#")
    );
}

#[tokio::test]
async fn refs_outside_the_registry_are_refused_without_fetching() {
    let docs = Documents::default();
    let schema = json!({"$ref": "https://example.com/x.json"});
    let err = compile(&format!("{BASE}/schemas/a/b/1"), schema, &docs)
        .await
        .unwrap_err();
    let expected = SchemaError::ExternalRef {
        url: "https://example.com/x.json".to_owned(),
    };
    assert_eq!(err, expected);
    assert_eq!(docs.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refs_to_latest_or_missing_schemas_are_refused() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    let err = compile(&root, json!({"$ref": "../c/latest"}), &docs)
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::UnpinnedRef { .. }), "{err}");
    let err = compile(&root, json!({"$ref": "../c/4"}), &docs)
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::MissingRef { ref url } if url.ends_with("/c/4")));
}

#[tokio::test]
async fn metaschema_violations_say_where() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    let err = compile(&root, json!({"properties": {"x": {"type": 12}}}), &docs).await;
    let message = err.unwrap_err().to_string();
    assert!(message.contains("/properties/x/type"), "{message}");
}

#[tokio::test]
async fn older_drafts_are_chosen_by_dollar_schema() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    // Draft 4's exclusiveMaximum is a boolean; 2020-12 would refuse it.
    let schema = json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "maximum": 3,
        "exclusiveMaximum": true
    });
    let compiled = compile(&root, schema, &docs).await.unwrap();
    assert!(!compiled.validate(&json!(3), OutputFormat::Basic).valid);
    assert!(compiled.validate(&json!(2), OutputFormat::Basic).valid);
}

#[tokio::test]
async fn the_default_dialect_applies_only_without_dollar_schema() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    // A boolean exclusiveMaximum is draft 4; draft 2020-12 refuses it.
    let schema = json!({"maximum": 3, "exclusiveMaximum": true});
    let draft4 = CompileOptions {
        default_dialect: Dialect::Draft4,
        ..CompileOptions::default()
    };
    let compiled = CompiledSchema::compile(&root, &schema, &docs, draft4)
        .await
        .unwrap();
    assert!(!compiled.validate(&json!(3), OutputFormat::Flag).valid);
    let err = compile(&root, schema, &docs).await.unwrap_err();
    assert!(matches!(err, SchemaError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn flag_output_carries_no_detail() {
    let docs = Documents::default();
    let compiled = compile(
        &format!("{BASE}/schemas/a/b/1"),
        json!({"type": "string"}),
        &docs,
    )
    .await
    .unwrap();
    let outcome = compiled.validate(&json!(1), OutputFormat::Flag);
    assert!(!outcome.valid);
    assert!(outcome.errors.is_empty());
}

#[tokio::test]
async fn format_assertion_is_an_option() {
    let docs = Documents::default();
    let schema = json!({"format": "email"});
    let root = format!("{BASE}/schemas/a/b/1");
    let asserting = CompileOptions {
        assert_formats: true,
        ..CompileOptions::default()
    };
    let strict = CompiledSchema::compile(&root, &schema, &docs, asserting)
        .await
        .unwrap();
    let lenient = compile(&root, schema, &docs).await.unwrap();
    assert!(!strict.validate(&json!("nope"), OutputFormat::Flag).valid);
    assert!(lenient.validate(&json!("nope"), OutputFormat::Flag).valid);
}

#[tokio::test]
async fn concurrent_misses_compile_once() {
    let cache = ValidatorCache::new(1 << 20);
    let compilations = Arc::new(AtomicUsize::new(0));
    let schema = json!({"type": "integer"});
    let key = ValidatorKey {
        digest: CanonicalDocument::from_value(schema.clone()).digest(),
        root_url: format!("{BASE}/schemas/a/b/1"),
        options: CompileOptions::default(),
    };

    let lookups = (0..16).map(|_| {
        let (cache, key, schema) = (cache.clone(), key.clone(), schema.clone());
        let compilations = Arc::clone(&compilations);
        tokio::spawn(async move {
            cache
                .get_or_compile(key.clone(), async move {
                    compilations.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    compile(&key.root_url, schema, &Documents::default()).await
                })
                .await
        })
    });
    for lookup in futures::future::join_all(lookups).await {
        assert!(
            lookup
                .unwrap()
                .unwrap()
                .validate(&json!(1), OutputFormat::Flag)
                .valid
        );
    }
    assert_eq!(compilations.load(Ordering::SeqCst), 1);
}
