//! The test harness: a fresh database per test (a temporary SQLite file, or
//! a new PostgreSQL database that is dropped afterwards), the real server on
//! a free loopback port, and an HTTP client that talks to it.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use sqlx::Connection;
use switchyard::config::ServeConfig;
use switchyard::startup::Application;
use switchyard::storage::{Database, accounts};

/// The PostgreSQL server tests create their databases on. Override with
/// `SWITCHYARD_TEST_POSTGRES_URL` (it must allow `CREATE DATABASE`).
pub fn postgres_admin_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test only.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _sqlite_dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("switchyard.db").display());
                Self {
                    url,
                    postgres_name: None,
                    _sqlite_dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!(
                    "switchyard_test_{}",
                    ulid::Ulid::new().to_string().to_lowercase()
                );
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
                    panic!(
                        "PostgreSQL is needed for these tests and did not answer at {admin_url}: {error}. \
                         Start it (see DEVELOPERS.md) or set SWITCHYARD_TEST_POSTGRES_URL."
                    )
                });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                let url = match admin_url.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("SWITCHYARD_TEST_POSTGRES_URL must end in /DATABASE"),
                };
                Self {
                    url,
                    postgres_name: Some(name),
                    _sqlite_dir: None,
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async code: use a short-lived runtime on its own
        // thread so this works whichever runtime the test used.
        let admin_url = postgres_admin_url();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop a test database: {error}");
        }
    }
}

/// A status and a JSON body (`Value::Null` when the body is empty or not
/// JSON; the raw text is kept for messages).
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl TestResponse {
    /// The `error` message of an error body.
    pub fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", self.text))
    }
}

/// The body limit test servers run with. Smaller than the default so that
/// an oversized body fits in the loopback socket buffers: a server answers
/// 413 before reading the whole body and closes the connection, and a client
/// still writing a body larger than the buffers would see a reset instead of
/// the answer.
pub const TEST_MAX_BODY_BYTES: usize = 128 * 1024;

/// The real server, on a fresh database, with one account.
pub struct TestApp {
    pub address: String,
    /// The admin API key of the account every request uses by default.
    pub api_key: String,
    pub db: Database,
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    database: TestDatabase,
}

impl TestApp {
    /// Starts the server with the test body limit ([`TEST_MAX_BODY_BYTES`]).
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the server with a configuration adjusted by `configure`.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut ServeConfig)) -> Self {
        let database = TestDatabase::create(backend).await;
        // Server errors show in a failing test's output (RUST_LOG overrides).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
            )
            .with_test_writer()
            .try_init();
        let mut config = ServeConfig::for_database(database.url.clone());
        config.max_body_bytes = TEST_MAX_BODY_BYTES;
        // Webhook receivers in tests listen on loopback.
        config.outbound.outbound_allow_cidr = "127.0.0.0/8".into();
        configure(&mut config);
        let app = Application::build(&config)
            .await
            .expect("build the application");
        let address = format!("http://{}", app.address());
        let db = app.database().clone();
        let account = accounts::create_account(&db, "test account")
            .await
            .expect("create an account");
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stopped = async {
                let _ = shutdown_rx.await;
            };
            app.run_until(stopped).await.expect("the server runs");
        });
        Self {
            address,
            api_key: account.api_key,
            db,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("build an HTTP client"),
            server,
            shutdown: Some(shutdown_tx),
            database,
        }
    }

    /// Starts a second server on this app's database, as another process
    /// sharing it would; returns its base URL. It stops with the test.
    pub async fn spawn_second_server(&self) -> String {
        let mut config = ServeConfig::for_database(self.database.url.clone());
        config.max_body_bytes = TEST_MAX_BODY_BYTES;
        let app = Application::build(&config)
            .await
            .expect("build a second server");
        let address = format!("http://{}", app.address());
        tokio::spawn(async move {
            let _ = app.run_until(std::future::pending()).await;
        });
        address
    }

    /// Creates another account and returns its admin API key.
    pub async fn new_account_key(&self, name: &str) -> String {
        accounts::create_account(&self.db, name)
            .await
            .expect("create an account")
            .api_key
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request with this app's admin key and a JSON body if given.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        self.send_as(Some(&self.api_key), method, path, body).await
    }

    /// Sends a request with the given admin key (or none).
    pub async fn send_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("send the request")).await
    }

    /// Sends raw bytes with a content type, for malformed-input tests.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        let request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.api_key)
            .header("content-type", content_type)
            .body(body);
        read(request.send().await.expect("send the request")).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates funnel stages with these titles, in order; returns their ids.
    pub async fn create_stages(&self, titles: &[&str]) -> Vec<String> {
        let mut ids = Vec::new();
        for title in titles {
            let created = self
                .post(
                    "/api/v1/funnel-stages",
                    serde_json::json!({ "title": title }),
                )
                .await;
            assert_eq!(
                created.status, 201,
                "create stage {title}: {}",
                created.text
            );
            ids.push(created.body["id"].as_str().expect("stage id").to_owned());
        }
        ids
    }

    /// Creates a webhook import, activates it, and returns (id, token).
    pub async fn create_active_import(&self, name: &str) -> (String, String) {
        let created = self
            .post(
                "/api/v1/webhook-imports",
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(created.status, 201, "create import: {}", created.text);
        let id = created.body["id"].as_str().expect("import id").to_owned();
        let token = created.body["token"]
            .as_str()
            .expect("import token")
            .to_owned();
        let activated = self
            .post(
                &format!("/api/v1/webhook-imports/{id}/activate"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(activated.status, 200, "activate import: {}", activated.text);
        (id, token)
    }

    /// Sends an inbound funnel update with an import token.
    pub async fn inbound(&self, token: &str, path: &str, body: Value) -> TestResponse {
        self.send_as(Some(token), Method::POST, path, Some(body))
            .await
    }

    /// Creates a lead and returns its `lead_profile_uid`.
    pub async fn create_lead(&self, body: Value) -> String {
        let created = self.post("/api/v1/leads", body).await;
        assert_eq!(created.status, 201, "create lead: {}", created.text);
        created.body["lead_profile_uid"]
            .as_str()
            .expect("lead uid")
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.server.abort();
    }
}

async fn read(response: reqwest::Response) -> TestResponse {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("read the response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    TestResponse {
        status,
        body,
        text,
        headers,
    }
}

/// (stage title, backfilled, archived) of each event of a lead's funnel
/// history, oldest first; archived events only when asked for.
pub async fn history(
    app: &TestApp,
    lead: &str,
    include_archived: bool,
) -> Vec<(String, bool, bool)> {
    let response = app
        .get(&format!(
            "/api/v1/leads/{lead}/funnel-history?include_archived={include_archived}"
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|event| {
            (
                event["funnel_stage"]["title"]
                    .as_str()
                    .expect("title")
                    .to_owned(),
                event["backfilled"].as_bool().expect("backfilled"),
                !event["archived_at"].is_null(),
            )
        })
        .collect()
}

/// The expected form of [`history`].
pub fn events(expected: &[(&str, bool, bool)]) -> Vec<(String, bool, bool)> {
    expected
        .iter()
        .map(|(title, backfilled, archived)| (title.to_string(), *backfilled, *archived))
        .collect()
}

/// Declares each listed `async fn name(app: TestApp)` as two tests, one on
/// SQLite and one on PostgreSQL, each with its own fresh server. With
/// `backend:` first, each `async fn name(backend: Backend)` gets the backend
/// instead and sets up what it needs itself (a database, processes).
#[macro_export]
macro_rules! on_both_backends {
    (backend: $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

/// Polls `probe` every 50 ms until it returns `Ok`, for at most `limit`,
/// and returns that value. The one way these tests wait for something the
/// server does in the background. `probe` returns `Err` with what it saw
/// while not there yet; the test fails with the last such description.
pub async fn eventually<T, F, Fut>(limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("still not there after {limit:?}: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
