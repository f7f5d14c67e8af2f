//! Compiling and validating on every engine, with references resolved through a
//! registry stand-in made of plain documents.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ovsr_core::CanonicalDocument;
use ovsr_validate::{
    CompileOptions, CompiledSchema, Dialect, Engine, OutputFormat, RegistryResolver, Resolution,
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
    engine: Engine,
) -> Result<CompiledSchema, SchemaError> {
    CompiledSchema::compile(url, &schema, docs, on(engine)).await
}

/// Default options on `engine`.
fn on(engine: Engine) -> CompileOptions {
    CompileOptions {
        engine,
        ..CompileOptions::default()
    }
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
    let root = format!("{BASE}/schemas/acme/order/1");
    for engine in Engine::ALL {
        let compiled = compile(&root, order.clone(), &docs, engine).await.unwrap();

        let good = json!({"buyer": {"id": 1}, "seller": {"id": 2}});
        assert!(
            compiled.validate(&good, OutputFormat::Basic).valid,
            "{engine}"
        );
        let bad = compiled.validate(&json!({"seller": {}}), OutputFormat::Basic);
        assert!(!bad.valid, "{engine}");
        let failure = bad
            .errors
            .iter()
            .find(|e| e.instance_location == "/seller")
            .unwrap();
        assert!(
            failure.keyword_location.contains("$ref"),
            "{engine}: {failure:?}"
        );
        let absolute = &failure.absolute_keyword_location;
        assert!(
            absolute.contains("/schemas/acme/customer/1#"),
            "{engine}: {failure:?}"
        );
        assert!(failure.message.contains("id"), "{engine}: {failure:?}");
    }
}

#[tokio::test]
async fn documents_referenced_by_references_resolve_in_few_passes() {
    let mut docs = Documents::default();
    let leaf = json!({"type": "integer"});
    let middle = json!({"properties": {"n": {"$ref": "../leaf/1"}}});
    docs.by_url.insert(format!("{BASE}/schemas/a/leaf/1"), leaf);
    docs.by_url
        .insert(format!("{BASE}/schemas/a/mid/1"), middle);
    let root = json!({"items": [{"$ref": "../mid/1"}, {"$ref": "../leaf/1"}]});
    let root = json!({"allOf": [root], "$schema": "http://json-schema.org/draft-07/schema#"});
    for engine in Engine::ALL {
        docs.lookups.store(0, Ordering::SeqCst);
        let url = format!("{BASE}/schemas/a/root/1");
        let compiled = compile(&url, root.clone(), &docs, engine).await.unwrap();
        assert!(
            compiled
                .validate(&json!([{"n": 1}, 2]), OutputFormat::Flag)
                .valid
        );
        let outcome = compiled.validate(&json!([{"n": "x"}, 2]), OutputFormat::Basic);
        assert_eq!(outcome.errors[0].instance_location, "/0/n", "{engine}");
        // Each document is looked up once, however many passes find it.
        assert_eq!(docs.lookups.load(Ordering::SeqCst), 2, "{engine}");
    }
}

#[tokio::test]
async fn refs_outside_the_registry_are_refused_without_fetching() {
    for engine in Engine::ALL {
        let docs = Documents::default();
        let schema = json!({"$ref": "https://example.com/x.json"});
        let err = compile(&format!("{BASE}/schemas/a/b/1"), schema, &docs, engine)
            .await
            .unwrap_err();
        let expected = SchemaError::ExternalRef {
            url: "https://example.com/x.json".to_owned(),
        };
        assert_eq!(err, expected, "{engine}");
        assert_eq!(docs.lookups.load(Ordering::SeqCst), 1, "{engine}");
    }
}

#[tokio::test]
async fn refs_to_latest_or_missing_schemas_are_refused() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    for engine in Engine::ALL {
        let err = compile(&root, json!({"$ref": "../c/latest"}), &docs, engine)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SchemaError::UnpinnedRef { .. }),
            "{engine}: {err}"
        );
        let err = compile(&root, json!({"$ref": "../c/4"}), &docs, engine)
            .await
            .unwrap_err();
        let names_c4 = matches!(&err, SchemaError::MissingRef { url } if url.ends_with("/c/4"));
        assert!(names_c4, "{engine}: {err}");
    }
}

#[tokio::test]
async fn metaschema_violations_say_where() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    for engine in Engine::ALL {
        let schema = json!({"properties": {"x": {"type": 12}}});
        let err = compile(&root, schema, &docs, engine).await.unwrap_err();
        assert!(matches!(err, SchemaError::Invalid(_)), "{engine}: {err}");
        let message = err.to_string();
        assert!(
            message.contains("/properties/x/type"),
            "{engine}: {message}"
        );
    }
}

#[tokio::test]
async fn older_drafts_are_chosen_by_dollar_schema() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    // Draft 4's exclusiveMaximum is a boolean; 2020-12 would refuse it. The https
    // spelling is common in the wild and names the same draft.
    for declared in [
        "http://json-schema.org/draft-04/schema#",
        "https://json-schema.org/draft-04/schema",
    ] {
        let schema = json!({"$schema": declared, "maximum": 3, "exclusiveMaximum": true});
        for engine in Engine::ALL {
            let compiled = compile(&root, schema.clone(), &docs, engine).await.unwrap();
            assert!(!compiled.validate(&json!(3), OutputFormat::Basic).valid);
            assert!(compiled.validate(&json!(2), OutputFormat::Basic).valid);
        }
    }
}

#[tokio::test]
async fn the_default_dialect_applies_only_without_dollar_schema() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    // A boolean exclusiveMaximum is draft 4; draft 2020-12 refuses it.
    let schema = json!({"maximum": 3, "exclusiveMaximum": true});
    for engine in Engine::ALL {
        let draft4 = CompileOptions {
            default_dialect: Dialect::Draft4,
            ..on(engine)
        };
        let compiled = CompiledSchema::compile(&root, &schema, &docs, draft4)
            .await
            .unwrap();
        assert!(!compiled.validate(&json!(3), OutputFormat::Flag).valid);
        let err = compile(&root, schema.clone(), &docs, engine)
            .await
            .unwrap_err();
        assert!(matches!(err, SchemaError::Invalid(_)), "{engine}: {err}");
    }
}

#[tokio::test]
async fn flag_output_carries_no_detail() {
    let docs = Documents::default();
    for engine in Engine::ALL {
        let root = format!("{BASE}/schemas/a/b/1");
        let schema = json!({"type": "string"});
        let compiled = compile(&root, schema, &docs, engine).await.unwrap();
        let outcome = compiled.validate(&json!(1), OutputFormat::Flag);
        assert!(!outcome.valid);
        assert!(outcome.errors.is_empty());
        let outcome = compiled.validate(&json!(1), OutputFormat::Basic);
        assert_eq!(outcome.errors.len(), 1, "{engine}");
    }
}

#[tokio::test]
async fn format_assertion_is_an_option() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    // Both crates assert formats in drafts 4 to 7 by default. jsonschema lets the
    // option turn that off; boon cannot, so boon always asserts there.
    for dialect in [Dialect::Draft7, Dialect::Draft2020_12] {
        let schema = json!({"$schema": dialect.uri(), "format": "email"});
        for engine in Engine::ALL {
            let asserting = CompileOptions {
                assert_formats: true,
                ..on(engine)
            };
            let strict = CompiledSchema::compile(&root, &schema, &docs, asserting)
                .await
                .unwrap();
            let lenient = compile(&root, schema.clone(), &docs, engine).await.unwrap();
            let nope = json!("nope");
            assert!(
                !strict.validate(&nope, OutputFormat::Flag).valid,
                "{engine}"
            );
            let boon_asserts_anyway = engine == Engine::Boon && dialect == Dialect::Draft7;
            let lenient_outcome = lenient.validate(&nope, OutputFormat::Flag);
            assert_eq!(
                lenient_outcome.valid, !boon_asserts_anyway,
                "{engine} {dialect}"
            );
        }
    }
}

#[tokio::test]
async fn backtracking_patterns_stay_bounded() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    let evil = format!("{}!", "a".repeat(40));
    // Nested quantifiers: linear in `regex`, exponential in a naive backtracker.
    let nested = json!({"pattern": "^(a+)+$"});
    // A backreference, which only a backtracking engine can run, exponential in the
    // length of the string unless the engine stops itself.
    let backreference = json!({"pattern": "^(a|aa)*\\1$"});
    for engine in Engine::ALL {
        let compiled = compile(&root, nested.clone(), &docs, engine).await.unwrap();
        let started = Instant::now();
        assert!(!compiled.validate(&json!(evil), OutputFormat::Basic).valid);
        assert!(started.elapsed() < Duration::from_secs(2), "{engine}");

        // boon refuses what `regex` cannot run; jsonschema runs it on a budget and
        // answers "invalid" when the budget runs out.
        let started = Instant::now();
        let compiled = compile(&root, backreference.clone(), &docs, engine).await;
        match (engine, compiled) {
            (Engine::Boon, Err(err)) => assert!(matches!(err, SchemaError::Invalid(_)), "{err}"),
            (Engine::JsonSchema, Ok(compiled)) => {
                let outcome = compiled.validate(&json!(evil), OutputFormat::Basic);
                assert!(!outcome.valid);
                assert!(
                    outcome.errors[0].message.contains("backtracking"),
                    "{outcome:?}"
                );
                assert!(compiled.validate(&json!("aaaa"), OutputFormat::Flag).valid);
            }
            (engine, compiled) => panic!("{engine}: unexpected {compiled:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{engine}");
    }
}

#[tokio::test]
async fn messages_do_not_echo_large_values() {
    let docs = Documents::default();
    let root = format!("{BASE}/schemas/a/b/1");
    let schema = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    let big = json!({"payload": "x".repeat(10_000)});
    for engine in Engine::ALL {
        let compiled = compile(&root, schema.clone(), &docs, engine).await.unwrap();
        let outcome = compiled.validate(&big, OutputFormat::Basic);
        assert!(!outcome.errors.is_empty(), "{engine}");
        for failure in outcome.errors {
            assert!(failure.message.len() < 500, "{engine}: {}", failure.message);
        }
    }
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
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let docs = Documents::default();
                    compile(&key.root_url, schema, &docs, key.options.engine).await
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

#[test]
fn the_engine_is_part_of_the_cache_key() {
    let digest = CanonicalDocument::from_value(json!(true)).digest();
    let key = |engine| ValidatorKey {
        digest,
        root_url: format!("{BASE}/schemas/a/b/1"),
        options: on(engine),
    };
    assert_ne!(key(Engine::Boon), key(Engine::JsonSchema));
}
