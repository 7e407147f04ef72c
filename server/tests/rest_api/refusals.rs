//! Refusals that come before Tandem's own checks: unknown paths, methods,
//! malformed parameters and headers, too large bodies, too many headers.
//! Each still answers with the documented error body.

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::fixture::{Api, MALFORMED, NO_SUCH_RESOURCE, error_body};

const METHOD_NOT_ALLOWED: &str = "Method not allowed.";

/// Sends a request and returns its status and JSON body, checking the
/// content type.
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json");
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn unknown_paths_methods_and_malformed_requests_answer_with_the_error_body() {
    let api = Api::open().await;
    let (project, desktop) = api.ids().await;
    let path = api.path(project, desktop);
    let client = reqwest::Client::new();
    let no_path = error_body("TANDEM.4044", NO_SUCH_RESOURCE, "no such API path");
    let no_method = error_body(
        "TANDEM.4051",
        METHOD_NOT_ALLOWED,
        "the path does not take this method",
    );
    for (method, path, answer) in [
        (Method::GET, "/v2".to_owned(), (404, no_path.clone())),
        (Method::GET, "/v2/".to_owned(), (404, no_path.clone())),
        (
            Method::GET,
            "/v2/nothing".to_owned(),
            (404, no_path.clone()),
        ),
        (Method::GET, "/v2/1/desktops/1".to_owned(), (404, no_path)),
        (Method::PUT, path.clone(), (405, no_method.clone())),
        (Method::PATCH, path.clone(), (405, no_method.clone())),
        (Method::OPTIONS, path.clone(), (405, no_method)),
        (
            Method::GET,
            format!("/v2/%FF/desktops/{desktop}/remote-assistance"),
            (
                400,
                error_body(
                    "TANDEM.4001",
                    MALFORMED,
                    "project_id must be a positive integer",
                ),
            ),
        ),
    ] {
        let request = client
            .request(method.clone(), api.server.url(&path))
            .header("X-Auth-Token", &api.admin_token);
        assert_eq!(send(request).await, answer, "{method} {path}");
    }

    // A token that is not text.
    let (status, answer) = send(client.get(api.server.url(&path)).header(
        "X-Auth-Token",
        HeaderValue::from_bytes(b"tandem_\xff").unwrap(),
    ))
    .await;
    api.conforms(&Method::GET, status.try_into().unwrap(), &answer);
    assert_eq!(
        (status, answer),
        (
            400,
            error_body(
                "TANDEM.4004",
                MALFORMED,
                "the X-Auth-Token header is malformed"
            )
        )
    );

    // The body is read up to 16 KiB.
    let padded = |length: usize| format!("{:<length$}", r#"{"name":"x"}"#);
    let (status, answer) = api
        .call(
            Method::POST,
            &path,
            Some(&api.admin_token),
            Some(&padded(16 * 1024)),
        )
        .await;
    assert_eq!(
        (status.as_u16(), answer),
        (
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such active session")
        ),
        "a body of 16 KiB is read"
    );
    let (status, answer) = api
        .call(
            Method::POST,
            &path,
            Some(&api.admin_token),
            Some(&padded(16 * 1024 + 1)),
        )
        .await;
    assert_eq!(
        (status.as_u16(), answer),
        (
            413,
            error_body(
                "TANDEM.4131",
                "The request body is too large.",
                "send at most 16 KiB"
            )
        )
    );

    // The document types the ids as the server reads them.
    let parameters = api.document["paths"]
        ["/v2/{project_id}/desktops/{desktop_id}/remote-assistance"]["get"]["parameters"]
        .clone();
    assert_eq!(
        parameters,
        json!([
            {"name": "project_id", "in": "path", "required": true,
             "description": "Project ID.", "example": 1,
             "schema": {"type": "integer", "format": "int64", "minimum": 1}},
            {"name": "desktop_id", "in": "path", "required": true,
             "description": "Desktop ID (a host of the project).", "example": 1,
             "schema": {"type": "integer", "format": "int64", "minimum": 1}},
        ])
    );
}

/// Sends a GET over a plain socket with `headers` header lines in all
/// (`Host` and `Connection` among them): the status and the body.
async fn get_with_headers(api: &Api, path: &str, headers: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: tandem\r\nConnection: close\r\n");
    for index in 0..headers - 2 {
        request.push_str(&format!("X-Fill-{index}: {index}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(api.server.address)
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

#[tokio::test]
async fn more_than_100_headers_are_refused_with_the_error_body() {
    let api = Api::open().await;
    let path = api.path(1, 1);
    let json = |body: &str| serde_json::from_str::<Value>(body).unwrap();
    let (status, body) = get_with_headers(&api, &path, 100).await;
    assert_eq!(
        (status, json(&body)),
        (
            401,
            error_body(
                "TANDEM.4011",
                "Authentication failed.",
                "send an API token in the X-Auth-Token header"
            )
        ),
        "100 headers are read"
    );
    for path in [path.as_str(), "/v2/nothing"] {
        let (status, body) = get_with_headers(&api, path, 101).await;
        assert_eq!(
            (status, json(&body)),
            (
                431,
                error_body(
                    "TANDEM.4311",
                    "The request has too many headers.",
                    "send at most 100 headers"
                )
            ),
            "{path}"
        );
    }
    // Outside the REST API, the bare status as before.
    let (status, body) = get_with_headers(&api, "/login", 101).await;
    assert_eq!((status, body.as_str()), (431, ""));
    // Beyond what the HTTP layer parses, it refuses by itself, as the
    // README says: no body, even under /v2.
    let (status, body) = get_with_headers(&api, &path, 1001).await;
    assert_eq!((status, body.as_str()), (431, ""));
}
