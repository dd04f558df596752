//! Admin API keys: listed by name (never the secret), created (shown once),
//! revoked at once with the UI sessions opened with them, the last one
//! refused; and `switchyard account key create` as the way back in when
//! every key is lost.

use reqwest::Method;
use serde_json::json;

use crate::cli::{printed_key, switchyard};
use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::on_both_backends;

on_both_backends!(keys_are_created_listed_and_revoked_but_never_the_last);

async fn keys_are_created_listed_and_revoked_but_never_the_last(app: TestApp) {
    let listed = app.get("/api/v1/api-keys").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let first = listed.body["data"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(listed.body["data"][0]["name"], "initial key");
    assert_eq!(listed.body["data"][0]["current"], true);
    assert!(!listed.text.contains(&app.api_key), "no secret is listed");

    let refused = app.post("/api/v1/api-keys", json!({"name": "  "})).await;
    assert_eq!(refused.status, 422);
    let created = app.post("/api/v1/api-keys", json!({"name": "CI"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let second = created.body["api_key"].as_str().expect("secret").to_owned();
    assert!(second.starts_with("sy_admin_"));
    assert_eq!(created.body["current"], false);
    let second_id = created.body["id"].as_str().expect("id").to_owned();
    let with_second = app
        .send_as(Some(&second), Method::GET, "/api/v1/api-keys", None)
        .await;
    assert_eq!(with_second.body["data"].as_array().map(Vec::len), Some(2));

    // Another account cannot touch these keys.
    let other = app.new_account_key("other").await;
    let foreign = app
        .send_as(
            Some(&other),
            Method::DELETE,
            &format!("/api/v1/api-keys/{first}"),
            None,
        )
        .await;
    assert_eq!(foreign.status, 404);

    // A UI session opened with the first key ends with it.
    let session = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in = session
        .post(app.url("/sign-in"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("api_key", app.api_key.as_str())])
        .send()
        .await
        .expect("sign in");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();

    let revoked = app
        .send_as(
            Some(&second),
            Method::DELETE,
            &format!("/api/v1/api-keys/{first}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let old = app.get("/api/v1/api-keys").await;
    assert_eq!(old.status, 401, "the revoked key stops at once");
    let page = session
        .get(app.url("/stages"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 303, "its UI session ended with it");

    let last = app
        .send_as(
            Some(&second),
            Method::DELETE,
            &format!("/api/v1/api-keys/{second_id}"),
            None,
        )
        .await;
    assert_eq!(last.status, 409);
    assert!(last.error().contains("last key"), "{}", last.text);
}

mod from_the_cli {
    use super::*;

    on_both_backends!(backend: the_cli_creates_a_key_for_an_account);

    async fn the_cli_creates_a_key_for_an_account(backend: Backend) {
        let database = TestDatabase::create(backend).await;
        let created = switchyard(&database.url)
            .args(["account", "create", "Acme"])
            .output()
            .await
            .expect("run account create");
        assert!(created.status.success());
        let text = String::from_utf8_lossy(&created.stdout);
        let account = text
            .split('(')
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .expect("the account id is printed")
            .to_owned();
        assert!(account.starts_with("acct_"), "{text}");

        let key = switchyard(&database.url)
            .args([
                "account",
                "key",
                "create",
                "--account",
                &account,
                "recovery",
            ])
            .output()
            .await
            .expect("run account key create");
        assert!(
            key.status.success(),
            "{}",
            String::from_utf8_lossy(&key.stderr)
        );
        let printed: Vec<String> = String::from_utf8_lossy(&key.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let secret = printed_key(&printed).expect("a key is printed");

        let app_db = switchyard::storage::Database::connect(
            &switchyard::config::ServeConfig::for_database(database.url.clone()).database,
        )
        .await
        .expect("connect");
        let owner = switchyard::storage::accounts::find_api_key(&app_db, &secret)
            .await
            .expect("look up")
            .expect("the key works");
        assert_eq!(owner.account_id, account);
        assert_eq!(owner.key_name, "recovery");

        let unknown = switchyard(&database.url)
            .args(["account", "key", "create", "--account", "acct_nope", "x"])
            .output()
            .await
            .expect("run");
        assert!(!unknown.status.success());
        let error = String::from_utf8_lossy(&unknown.stderr);
        assert!(error.contains("Account acct_nope not found"), "{error}");
    }
}
