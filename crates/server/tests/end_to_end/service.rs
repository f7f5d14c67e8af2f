//! The service around the API: health over gRPC and HTTP, RPCs that answer
//! unimplemented until they are built, and shutdown.

use std::time::Duration;

use anyhow::Context as _;
use ovsr_proto::v1::{CheckCompatibilityRequest, ListSchemasRequest, WatchSchemasRequest};
use reqwest::StatusCode;
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{TestServer, expect_status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_unary_rpcs_answer_unimplemented_with_a_message() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut validation = server.validation();

    let results = [validation
        .check_compatibility(CheckCompatibilityRequest::default())
        .await
        .map(drop)];

    for result in results {
        let status = expect_status(result, &[Code::Unimplemented]);
        assert!(!status.message().is_empty(), "{status:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_streaming_rpcs_answer_unimplemented_with_a_message() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut schemas = server.schemas();

    let watch = schemas.watch_schemas(WatchSchemasRequest::default()).await;
    let watch = first_stream_error(watch).await?;

    assert_eq!(watch.code(), Code::Unimplemented, "{watch:?}");
    assert!(!watch.message().is_empty(), "{watch:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_reports_the_server_and_its_services_serving() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut health = HealthClient::new(server.channel.clone());
    let services = [
        "",
        "ovsr.v1.SchemaService",
        "ovsr.v1.ValidationService",
        "ovsr.v1.SearchService",
    ];

    for service in services {
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let status = health.check(request).await?.into_inner().status;
        let serving = ServingStatus::Serving as i32;
        assert_eq!(status, serving, "service {service:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_ok_and_the_port_stops_accepting() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let addr = server.addr;
    // A client stays connected across the shutdown, as real clients do.
    let mut schemas = server.schemas();
    schemas.list_schemas(ListSchemasRequest::default()).await?;

    let grace = Duration::from_secs(30);
    let stopped = tokio::time::timeout(grace, server.shutdown()).await;
    stopped.context("shutdown took over 30 seconds")??;

    let connect = tokio::net::TcpStream::connect(addr).await;
    assert!(connect.is_err(), "{addr} still accepts connections");
    let call = schemas.list_schemas(ListSchemasRequest::default());
    let call = tokio::time::timeout(Duration::from_secs(10), call).await;
    let answered = matches!(call, Ok(Ok(_)));
    assert!(!answered, "a call succeeded after shutdown");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_health_and_readiness_answer_ok() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let health = server.http_get("/healthz").await?;
    let readiness = server.http_get("/readyz").await?;

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(readiness.status(), StatusCode::OK);
    Ok(())
}

/// The error a stream-shaped call must end with, whether the server refuses the call
/// itself or fails the stream's first message.
async fn first_stream_error<T>(
    result: Result<tonic::Response<tonic::Streaming<T>>, Status>,
) -> anyhow::Result<Status> {
    let mut stream = match result {
        Err(status) => return Ok(status),
        Ok(response) => response.into_inner(),
    };
    match stream.message().await {
        Err(status) => Ok(status),
        Ok(Some(_)) => anyhow::bail!("the stream yielded a message instead of failing"),
        Ok(None) => anyhow::bail!("the stream ended cleanly instead of failing"),
    }
}
