//! Aliases, reference locks, declared dialects and batch registration: how real schema
//! sets, which refer to each other by their published URLs, enter the registry.

use ovsr_proto::v1::batch_register_schemas_result::Result as BatchItem;
use ovsr_proto::v1::{
    BatchRegisterSchemasRequest, OutputFormat, RegisterSchemaRequest, RegisterSchemaResponse,
};
use tonic::{Code, Status};

use crate::harness::{TestServer, expect_status, random_namespace};

const BASE_URL: &str = "https://schemas.example.test/base.json";

fn request(namespace: &str, name: &str, content: &str, aliases: &[&str]) -> RegisterSchemaRequest {
    RegisterSchemaRequest {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        content: content.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        ..Default::default()
    }
}

async fn register(
    server: &TestServer,
    request: RegisterSchemaRequest,
) -> Result<RegisterSchemaResponse, Status> {
    Ok(server
        .schemas()
        .register_schema(request)
        .await?
        .into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ref_to_an_alias_resolves_within_its_namespace_only() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    let base = r#"{"type": "string"}"#;
    register(&server, request(ns, "base", base, &[BASE_URL])).await?;

    let user = format!(r#"{{"properties": {{"name": {{"$ref": "{BASE_URL}"}}}}}}"#);
    register(&server, request(ns, "user", &user, &[])).await?;
    let selector = server.selector("user", 1);
    let good = server.validate(selector.clone(), r#"{"name": "x"}"#, OutputFormat::Flag);
    assert!(good.await?.valid);
    let bad = server
        .validate(selector, r#"{"name": 1}"#, OutputFormat::Flag)
        .await?;
    assert!(!bad.valid);

    // Another namespace cannot reach this namespace's alias.
    let other = random_namespace("other");
    let result = register(&server, request(&other, "user", &user, &[])).await;
    let status = expect_status(result, &[Code::InvalidArgument]);
    assert!(status.message().contains(BASE_URL), "{status:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_held_by_another_schema_is_already_exists() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    register(&server, request(ns, "base", "{}", &[BASE_URL])).await?;

    let result = register(&server, request(ns, "impostor", "{}", &[BASE_URL])).await;
    let status = expect_status(result, &[Code::AlreadyExists]);
    assert!(status.message().contains(BASE_URL), "{status:?}");
    assert!(status.message().contains("base"), "{status:?}");
    let missing = server.fetch("impostor", 0).await;
    assert!(missing.is_err(), "the refused schema was stored");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_stays_pinned_when_its_alias_moves_on() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    let base_v1 = register(
        &server,
        request(ns, "base", r#"{"type": "string"}"#, &[BASE_URL]),
    );
    let base_v1 = base_v1.await?.schema_version.unwrap();
    let user = format!(r#"{{"$ref": "{BASE_URL}"}}"#);
    register(&server, request(ns, "user", &user, &[])).await?;

    // The alias now names a newer version that wants integers.
    register(
        &server,
        request(ns, "base", r#"{"type": "integer"}"#, &[BASE_URL]),
    )
    .await?;

    let pinned = server.fetch("user", 1).await?;
    assert_eq!(pinned.references.get(BASE_URL), Some(&base_v1.digest));
    let selector = server.selector("user", 1);
    let result = server
        .validate(selector, r#""text""#, OutputFormat::Flag)
        .await?;
    assert!(result.valid, "the version's meaning moved with the alias");

    // A schema registered now pins the newer version.
    register(&server, request(ns, "user-next", &user, &[])).await?;
    let selector = server.selector("user-next", 1);
    let result = server
        .validate(selector, r#""text""#, OutputFormat::Flag)
        .await?;
    assert!(!result.valid);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_refs_resolve_against_the_first_alias() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    register(
        &server,
        request(ns, "base", r#"{"minimum": 10}"#, &[BASE_URL]),
    )
    .await?;
    let user_url = "https://schemas.example.test/user.json";
    let user = r#"{"properties": {"age": {"$ref": "base.json"}}}"#;
    register(&server, request(ns, "user", user, &[user_url])).await?;

    let selector = server.selector("user", 1);
    let result = server
        .validate(selector, r#"{"age": 3}"#, OutputFormat::Basic)
        .await?;
    assert!(!result.valid);
    let location = &result.errors[0].absolute_keyword_location;
    assert!(location.starts_with(BASE_URL), "{location}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_aliases_and_dialects_are_refused_naming_the_field() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    let cases = [
        request(ns, "a", "{}", &["not a url"]),
        request(ns, "a", "{}", &["https://example.test/x.json#frag"]),
        request(ns, "a", "{}", &[&server.url("/schemas/other/thing/1")]),
    ];
    for case in cases {
        let status = expect_status(register(&server, case).await, &[Code::InvalidArgument]);
        assert!(status.message().starts_with("aliases[0]"), "{status:?}");
    }
    let mut bad_dialect = request(ns, "a", "{}", &[]);
    bad_dialect.dialect = "https://example.test/meta".to_owned();
    let status = expect_status(
        register(&server, bad_dialect).await,
        &[Code::InvalidArgument],
    );
    assert!(status.message().starts_with("dialect"), "{status:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_dialect_applies_to_documents_without_dollar_schema() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    // A boolean exclusiveMaximum is draft 4; draft 2020-12 refuses it.
    let content = r#"{"maximum": 3, "exclusiveMaximum": true}"#;
    let refused = register(&server, request(ns, "limit", content, &[])).await;
    expect_status(refused, &[Code::InvalidArgument]);

    let mut draft4 = request(ns, "limit", content, &[]);
    draft4.dialect = "http://json-schema.org/draft-04/schema#".to_owned();
    let version = register(&server, draft4).await?.schema_version.unwrap();
    assert!(version.dialect.contains("draft-04"), "{}", version.dialect);
    let result = server
        .validate(server.selector("limit", 1), "3", OutputFormat::Flag)
        .await?;
    assert!(!result.valid);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_registers_items_in_order_and_fails_bad_ones_alone() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let ns = &server.namespace;
    let user = format!(r#"{{"$ref": "{BASE_URL}"}}"#);
    let batch = BatchRegisterSchemasRequest {
        requests: vec![
            request(ns, "base", r#"{"type": "string"}"#, &[BASE_URL]),
            request(ns, "broken", "{not json", &[]),
            // Refers to the alias of an item earlier in the same batch.
            request(ns, "user", &user, &[]),
            request(ns, "Bad", "{}", &[]),
            request(
                ns,
                "base",
                r#"{"type": "string", "minLength": 1}"#,
                &[BASE_URL],
            ),
            request(ns, "base", r#"{"type": "string"}"#, &[BASE_URL]),
        ],
    };
    let results = server
        .schemas()
        .batch_register_schemas(batch)
        .await?
        .into_inner()
        .results;

    assert_eq!(results.len(), 6);
    let outcome = |i: usize| results[i].result.clone().expect("a result per item");
    let version = |i: usize| match outcome(i) {
        BatchItem::Registered(registered) => {
            let version = registered.schema_version.unwrap();
            Some((version.name, version.version, registered.created))
        }
        BatchItem::Error(_) => None,
    };
    let error = |i: usize| match outcome(i) {
        BatchItem::Error(error) => Some((Code::from(error.code), error.message)),
        BatchItem::Registered(_) => None,
    };
    assert_eq!(version(0), Some(("base".into(), 1, true)));
    let (code, message) = error(1).unwrap();
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("requests[1].content"), "{message}");
    assert_eq!(version(2), Some(("user".into(), 1, true)));
    let (code, message) = error(3).unwrap();
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("requests[3].name"), "{message}");
    assert_eq!(version(4), Some(("base".into(), 2, true)));
    assert_eq!(version(5), Some(("base".into(), 1, false)));

    let result = server
        .validate(server.selector("user", 1), "7", OutputFormat::Flag)
        .await?;
    assert!(!result.valid);
    Ok(())
}
