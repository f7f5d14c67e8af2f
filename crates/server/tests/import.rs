//! `ovsr import DIR` against a running server: references in any file order, manifest
//! metadata applied, bad files reported without stopping the rest, batches bounded,
//! and a second run changing nothing.

#![allow(clippy::unwrap_used)]

#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

use harness::{TestServer, random_namespace};
use ovsr_server::import::{self, ImportConfig};

fn write(dir: &Path, file: &str, content: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn config(server: &TestServer, dir: &Path, namespace: Option<String>) -> ImportConfig {
    ImportConfig {
        dir: dir.to_owned(),
        server: format!("http://{}", server.addr),
        namespace,
        quiet: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_imports_in_any_order_with_its_manifest_and_reruns_change_nothing() {
    let mut server = TestServer::start().await.unwrap();
    server.namespace = random_namespace("import");
    let dir = tempfile::tempdir().unwrap();
    // Sorted first, yet it references the customer sorted last: the import retries it.
    write(
        dir.path(),
        "a-order.json",
        r#"{"type": "object", "properties": {"buyer": {"$ref": "https://example.com/customer.json"}}}"#,
    );
    write(
        dir.path(),
        "nested/z-customer.schema.json",
        r#"{"type": "object", "required": ["id"]}"#,
    );
    write(dir.path(), "broken.json", r#"{"type": "object""#);
    write(
        dir.path(),
        "manifest.tsv",
        "file\taliases\ttags\n\
         nested/z-customer.schema.json\thttps://example.com/customer.json\tcrm, people\n",
    );

    let config = config(&server, dir.path(), Some(server.namespace.clone()));
    let first = import::run(&config).await.unwrap();

    assert_eq!(first.files, 3, "{first}");
    assert_eq!(first.created, 2, "{first}");
    assert_eq!(first.failed.len(), 1, "{first}");
    assert_eq!(first.failed[0].0, "broken.json");
    assert!(first.failed[0].1.contains("not valid JSON"), "{first}");
    assert!(first.calls >= 2, "the order was not retried: {first}");
    let customer = server.fetch("z-customer", 0).await.unwrap();
    assert_eq!(customer.tags, ["crm", "people"]);
    assert_eq!(customer.aliases, ["https://example.com/customer.json"]);
    let order = server.fetch("a-order", 0).await.unwrap();
    assert_eq!(order.references.len(), 1, "{order:?}");

    let second = import::run(&config).await.unwrap();
    assert_eq!(second.created, 0, "{second}");
    assert_eq!(second.unchanged, 2, "{second}");
    assert_eq!(second.failed.len(), 1, "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_name_namespaces_and_large_imports_go_in_bounded_batches() {
    let server = TestServer::start().await.unwrap();
    let namespace = random_namespace("bulk");
    let dir = tempfile::tempdir().unwrap();
    for n in 0..1200 {
        let schema = format!(r#"{{"title": "item {n}", "type": "object"}}"#);
        write(dir.path(), &format!("{namespace}/item-{n}.json"), &schema);
    }
    write(dir.path(), "loose.json", "{}");

    let summary = import::run(&config(&server, dir.path(), None))
        .await
        .unwrap();

    assert_eq!(summary.created, 1200, "{summary}");
    assert_eq!(summary.calls, 3, "500 schemas per call: {summary}");
    assert_eq!(summary.failed.len(), 1, "{summary}");
    assert!(summary.failed[0].1.contains("no namespace"), "{summary}");
    let mut reader = server.schemas();
    let selector = harness::by_version(&namespace, "item-1199", 0);
    let found = reader.get_schema(harness::get_request(selector)).await;
    assert!(found.is_ok(), "{found:?}");
}
