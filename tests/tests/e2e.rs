//! End to end: the real desktop app under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Needs the app built with its ui (scripts/test does that first), hence `#[ignore]` for a
//! plain `cargo test`; scripts/test runs these with `--include-ignored`.

use fantoccini::actions::InputSource;
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::Duration;
use vigil_tests::{app_binary, artifacts_dir, free_port, Moto, TauriDriver, Xvfb};

const MOTO_ACCOUNT: &str = "123456789012";

struct Session {
    client: Client,
    data: tempfile::TempDir,
    /// Where the app's save dialog is answered (VIGIL_SAVE_DIR).
    saves: tempfile::TempDir,
    // Dropped after the client: the driver, then the display.
    _driver: TauriDriver,
    xvfb: Xvfb,
}

async fn launch() -> Session {
    launch_with(&[]).await
}

/// The app with extra environment variables.
async fn launch_with(extra: &[(&str, String)]) -> Session {
    launch_in(tempfile::tempdir().unwrap(), extra).await
}

/// The app on a data directory prepared beforehand.
async fn launch_in(data: tempfile::TempDir, extra: &[(&str, String)]) -> Session {
    let xvfb = Xvfb::start();
    let saves = tempfile::tempdir().unwrap();
    let mut env = vec![("VIGIL_DATA_DIR", data.path().display().to_string()), ("VIGIL_SAVE_DIR", saves.path().display().to_string())];
    env.extend(extra.iter().cloned());
    let driver = TauriDriver::start(&xvfb.display, &env);
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert("tauri:options".into(), serde_json::json!({ "application": app_binary() }));
    // fantoccini keeps its HTTP connection alive, which tauri-driver needs to be reliable.
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with the app");
    Session { client, data, saves, _driver: driver, xvfb }
}

impl Session {
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Clicks `css` after scrolling it to the middle of the window, clear of the toasts fixed
    /// at the bottom (a click on a covered element fails).
    /// An element the page re-rendered between finding it and scrolling to it (data arriving)
    /// is found again, a few times at most; the click itself is made once.
    async fn click(&self, css: &str) {
        for attempt in 1..=3 {
            let el = self.find(css).await;
            let arg = serde_json::to_value(&el).unwrap();
            match self.client.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await {
                Ok(_) => {
                    el.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
                    return;
                }
                Err(e) if attempt < 3 && format!("{e:?}").contains("StaleElementReference") => continue,
                Err(e) => panic!("scroll to {css}: {e}"),
            }
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// The text of `css`; found again when the page re-rendered it in between (a list that
    /// reloads replaces its rows).
    async fn text(&self, css: &str) -> String {
        for _ in 0..5 {
            match self.find(css).await.text().await {
                Ok(t) => return t,
                Err(fantoccini::error::CmdError::Standard(e)) if e.error == fantoccini::error::ErrorStatus::StaleElementReference => continue,
                Err(e) => panic!("text of {css}: {e}"),
            }
        }
        panic!("{css} kept being re-rendered")
    }

    /// Screenshot of the X display, i.e. the real window (WebKitWebDriver's own screenshot
    /// call was seen to hang on a second use, so it is not used).
    async fn screenshot(&self, name: &str) {
        let path = artifacts_dir().join(name);
        self.xvfb.screenshot(&path);
        eprintln!("screenshot: {}", path.display());
    }

    async fn add_environment(&self, name: &str, credentials: &str, region: &str, endpoint: &str) {
        self.click("#add-env").await;
        self.type_into("#env-name", name).await;
        self.find("#env-credentials").await.select_by_value(credentials).await.unwrap();
        self.type_into("#env-region", region).await;
        self.type_into("#env-endpoint", endpoint).await;
        self.click("#env-save").await;
        self.find(&format!("tr[data-env='{name}']")).await;
    }

    /// Waits for a toast whose message starts with `prefix` (another toast may be showing).
    async fn toast_starting(&self, prefix: &str) {
        let xpath = format!("//div[contains(@class,'toast')]/span[starts-with(., '{prefix}')]");
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no toast starting {prefix:?}: {e}"));
    }

    /// The files the save dialog was answered with.
    fn saved_files(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.saves.path()).unwrap().map(|e| e.unwrap().path()).collect()
    }

    /// Asserts `css` matches nothing now. Only WebDriver's "no such element" counts as absent:
    /// any other error (a dead session, a bad selector) fails the test instead of passing it.
    async fn assert_absent(&self, css: &str, why: &str) {
        match self.client.find(Locator::Css(css)).await {
            Ok(_) => panic!("{css} is shown: {why}"),
            Err(e) if e.is_no_such_element() => {}
            Err(e) => panic!("looking for {css} failed ({e}), so its absence was not shown: {why}"),
        }
    }

    /// The id of the element that has the keyboard focus.
    async fn active_id(&self) -> String {
        let v = self.client.execute("return document.activeElement ? document.activeElement.id : ''", vec![]).await.unwrap();
        v.as_str().unwrap_or_default().to_string()
    }

    /// An attribute, read in the page at once (the element may be rendered again meanwhile).
    async fn attr(&self, css: &str, name: &str) -> String {
        self.find(css).await;
        let js = "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null";
        let v = self.client.execute(js, vec![css.into(), name.into()]).await.unwrap();
        v.as_str().unwrap_or_default().to_string()
    }

    async fn close(self) {
        self.client.close().await.unwrap();
    }
}

/// Runs the `vigil` CLI (built beside the app) on `data`, to prepare what a test starts from.
fn vigil_cli(data: &std::path::Path, args: &[&str]) {
    vigil_cli_out(data, args);
}

/// As [`vigil_cli`], returning what it printed.
fn vigil_cli_out(data: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(app_binary().with_file_name("vigil")).args(args).env("VIGIL_DATA_DIR", data).output().unwrap();
    assert!(out.status.success(), "vigil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The platform's failed-jobs alarm of `env`, as the bundle's alarms.yaml defines it.
/// A data directory whose "sandbox" environment has the platform deployed through the CLI from
/// a signed bundle; the bundle, the directory and the environment (as `env list --json`).
fn deployed_sandbox(endpoint: &str) -> (tempfile::TempDir, tempfile::TempDir, serde_json::Value) {
    let bundle = vigil_tests::signed_bundle("1.0.0", |_| {});
    let b = bundle.path().display().to_string();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    vigil_cli(d, &["sandbox", "attach", endpoint]);
    vigil_cli(d, &["deploy", "trust", "--name", "Patient Journey test releases", "--key", &vigil_tests::bundle_public_key()]);
    let plan: serde_json::Value = serde_json::from_str(&vigil_cli_out(d, &["deploy", "plan", "--bundle", &b, "--json"])).unwrap();
    vigil_cli(d, &["deploy", "apply", plan["id"].as_str().unwrap()]);
    let envs: serde_json::Value = serde_json::from_str(&vigil_cli_out(d, &["env", "list", "--json"])).unwrap();
    let env = envs.as_array().unwrap().iter().find(|e| e["name"] == "sandbox").unwrap().clone();
    (bundle, data, env)
}

async fn put_failed_jobs_alarm(cw: &aws_sdk_cloudwatch::Client, env: &str) -> String {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let alarm = format!("pj-{env}-worker-failed-jobs");
    cw.put_metric_alarm()
        .alarm_name(&alarm)
        .namespace("PatientJourney")
        .metric_name("FailedJobs")
        .dimensions(Dimension::builder().name("Environment").value(env).build())
        .statistic(Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(0.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    alarm
}

/// A hung driver must fail the test, not stall the run.
const TEST_LIMIT: Duration = Duration::from_secs(240);

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn add_an_environment_check_it_and_switch_theme() {
    tokio::time::timeout(TEST_LIMIT, add_check_theme()).await.expect("the test did not finish in time");
}

async fn add_check_theme() {
    let moto = Moto::start();
    let s = launch().await;
    s.find("#no-envs").await;

    s.add_environment("moto-e2e", "emulator", "us-east-1", &moto.endpoint()).await;
    s.click("tr[data-env='moto-e2e'] .check-env").await;
    s.find("#check-result[data-ok='true']").await;
    assert_eq!(s.text("#check-result .account").await, MOTO_ACCOUNT);
    s.screenshot("e2e-environment-checked.png").await;

    // Make it current: the sidebar follows.
    s.click("tr[data-env='moto-e2e'] .select-env").await;
    s.find("tr[data-env='moto-e2e'].is-current").await;
    assert_eq!(s.text("#current-env").await, "moto-e2e");

    // Theme: pick dark, then light; the document follows and the choice is kept.
    s.click("#nav-settings").await;
    // Tabs move with the arrow keys, and only the selected one is in the Tab order.
    s.find("#tab-appearance").await.send_keys("\u{E014}").await.unwrap();
    s.find("#tab-activity[aria-selected='true'][tabindex='0']").await;
    s.find("#tab-appearance[tabindex='-1']").await;
    assert_eq!(s.active_id().await, "tab-activity");
    s.find("[role='tabpanel'][aria-labelledby='tab-activity']").await;
    s.click("#tab-appearance").await;
    s.click("#theme-dark").await;
    s.find("html[data-theme='dark']").await;
    s.screenshot("e2e-dark-theme.png").await;
    s.click("#theme-light").await;
    s.find("html[data-theme='light']").await;

    // Every action above is in the operator log, and the chain verifies.
    s.click("#tab-activity").await;
    s.find("#oplog-table tr[data-seq='4']").await;
    s.click("#verify-oplog").await;
    s.find("#verify-result[data-ok='true']").await;
    assert!(s.text("#verify-result").await.contains("4 records"));

    // The app writes to the temporary data dir it was given, not the user's.
    assert!(s.data.path().join("vigil.db").is_file());
    s.close().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn a_dead_endpoint_fails_clearly_and_removal_asks_and_can_be_undone() {
    tokio::time::timeout(TEST_LIMIT, dead_endpoint_and_remove()).await.expect("the test did not finish in time");
}

async fn dead_endpoint_and_remove() {
    let s = launch().await;
    let dead = format!("http://127.0.0.1:{}", free_port());
    s.add_environment("dead", "emulator", "us-east-1", &dead).await;
    s.click("tr[data-env='dead'] .check-env").await;
    s.find("#check-result[data-ok='false'][data-kind='endpoint_unreachable']").await;
    assert!(s.text("#check-result").await.contains(&dead));

    // Bad input is refused with the reason, and nothing is added.
    s.click("#add-env").await;
    s.type_into("#env-name", "bad").await;
    s.type_into("#env-region", "Europe").await;
    s.click("#env-save").await;
    assert!(s.text("#form-error").await.contains("region"));
    s.click("#env-form button[type='button']").await;

    // The row's actions stay inside the table at the default window size.
    let table = s.find("#env-table").await.rectangle().await.unwrap();
    for css in [".check-env", ".select-env", ".edit-env", ".remove-env"] {
        let b = s.find(&format!("tr[data-env='dead'] {css}")).await.rectangle().await.unwrap();
        assert!(b.0 + b.2 <= table.0 + table.2 + 0.5, "{css} ends at {} past the table's {}", b.0 + b.2, table.0 + table.2);
    }
    // Remove asks first, in a dialog: focus goes into it, Escape closes it, and focus returns
    // to the Remove button; Cancel keeps the environment too.
    s.click("tr[data-env='dead'] .remove-env").await;
    s.find("#confirm-remove-dialog[role='alertdialog'][aria-modal='true']").await;
    assert_eq!(s.active_id().await, "cancel-remove");
    s.find("#cancel-remove").await.send_keys("\u{E00C}").await.unwrap();
    s.assert_absent("#confirm-remove-dialog", "Escape closed the dialog").await;
    let focused: String = s.client.execute("return document.activeElement.className", vec![]).await.unwrap().as_str().unwrap_or_default().to_string();
    assert!(focused.contains("remove-env"), "focus went back to Remove, not {focused:?}");
    s.click("tr[data-env='dead'] .remove-env").await;
    s.click("#cancel-remove").await;
    s.find("tr[data-env='dead']").await;
    // Confirm removes it; Undo brings it back.
    s.click("tr[data-env='dead'] .remove-env").await;
    s.click("#confirm-remove").await;
    s.find("#no-envs").await;
    s.click(".toast button.primary").await;
    s.find("tr[data-env='dead']").await;
    s.close().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn the_dashboard_charts_emitted_data_refetches_on_range_change_exports_png_and_shows_alarms() {
    tokio::time::timeout(TEST_LIMIT, dashboard_and_alarms()).await.expect("the test did not finish in time");
}

async fn dashboard_and_alarms() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StateValue};
    const ENV: &str = "moto-dash";
    let moto = Moto::start();
    let cw = aws_sdk_cloudwatch::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    // Documents ingested each minute over the last 40 minutes, emitted by this test.
    let now = chrono::Utc::now().timestamp();
    let dims = |b: aws_sdk_cloudwatch::types::builders::MetricDatumBuilder| {
        b.dimensions(Dimension::builder().name("Environment").value(ENV).build())
            .dimensions(Dimension::builder().name("Component").value("deid-worker").build())
    };
    let data: Vec<MetricDatum> = (2..40)
        .map(|m| {
            dims(
                MetricDatum::builder()
                    .metric_name("DocumentsIngested")
                    .unit(StandardUnit::Count)
                    .timestamp(DateTime::from_secs((now / 60 - m) * 60))
                    .value(100.0 + m as f64),
            )
            .build()
        })
        .collect();
    cw.put_metric_data().namespace("PatientJourney").set_metric_data(Some(data)).send().await.unwrap();
    // One alarm of the platform, firing.
    let alarm = put_failed_jobs_alarm(&cw, ENV).await;
    cw.set_alarm_state().alarm_name(&alarm).state_value(StateValue::Alarm).state_reason("e2e: 3 failed jobs").send().await.unwrap();

    let s = launch().await;
    s.add_environment(ENV, "emulator", "us-east-1", &moto.endpoint()).await;
    s.click(&format!("tr[data-env='{ENV}'] .select-env")).await;
    s.find(&format!("tr[data-env='{ENV}'].is-current")).await;

    // The platform's charts, with the data emitted above.
    s.click("#nav-metrics").await;
    let docs = "section[data-chart='documents']";
    s.find(&format!("{docs}[data-period='60'][data-error='false']")).await;
    let points: usize = s.attr(docs, "data-points").await.parse().unwrap();
    assert_eq!(points, 38, "one point per minute emitted");
    assert_eq!(s.attr("#dash-status", "data-refreshes").await, "1");

    // Hovering shows the nearest value.
    let plot = s.find(&format!("{docs} .chart-plot")).await;
    let mouse = fantoccini::actions::MouseActions::new("mouse".into()).then(fantoccini::actions::PointerAction::MoveToElement {
        element: plot,
        duration: None,
        x: 80.0,
        y: 0.0,
    });
    s.client.perform_actions(mouse).await.unwrap();
    let readout = s.text(&format!("{docs} .readout")).await;
    assert!(readout.contains("ingested"), "{readout}");
    let shown: f64 = readout.rsplit(' ').next().unwrap().trim().parse().unwrap_or_else(|_| panic!("a value in {readout}"));
    assert!((102.0..=139.0).contains(&shown), "an emitted value: {readout}");
    // The crosshair is placed at the point (styles set through the CSSOM; the CSP forbids inline ones).
    assert!(s.attr(&format!("{docs} .crosshair"), "style").await.contains("left:"));
    s.screenshot("e2e-dashboard.png").await;

    // A wider range fetches again, with a longer period.
    s.click("#range-1w").await;
    s.find("#dash-status[data-range='1w'][data-refreshes='2'][data-loading='false']").await;
    let period: u32 = s.attr(docs, "data-period").await.parse().unwrap();
    assert!(period > 60, "a week is fetched at a coarser period, got {period}");
    assert!(s.attr(docs, "data-points").await.parse::<usize>().unwrap() >= 1);

    // Auto-refresh every 10 s fetches again by itself; Off stops it.
    s.find("#auto-refresh").await.select_by_value("10").await.unwrap();
    s.find("#dash-status[data-refreshes='3'][data-loading='false']").await;
    s.find("#auto-refresh").await.select_by_value("0").await.unwrap();

    // PNG export writes a valid image where the save dialog answers.
    s.click(&format!("{docs} .export-png")).await;
    s.toast_starting("Saved ").await;
    let files = s.saved_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&files[0]).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG image data");
    assert_eq!((info.width, info.height), (1800, 640));

    // The alarm in ALARM state is listed, and the state filter works.
    s.click("#nav-alarms").await;
    let row = format!("tr[data-alarm='{alarm}'][data-state='ALARM']");
    s.find(&row).await;
    assert!(s.text(&row).await.contains("e2e: 3 failed jobs"));
    s.screenshot("e2e-alarms.png").await;
    s.click("#state-OK").await;
    s.find("#no-alarms").await;
    s.click("#state-ALARM").await;
    s.find(&row).await;
    s.click(&format!("{row} .history")).await;
    s.find("#alarm-history").await;

    // Aurora's charts need the DB cluster id: the page says so until the environment names it.
    s.click("#nav-metrics").await;
    s.click("#comp-aurora").await;
    s.find("#unavailable").await;
    s.click("#nav-environments").await;
    s.click(&format!("tr[data-env='{ENV}'] .edit-env")).await;
    s.click("#env-deployment summary").await;
    s.type_into("#dep-db_cluster_id", "pj-db").await;
    s.click("#env-save").await;
    s.find(&format!("tr[data-env='{ENV}']")).await;
    s.click("#nav-metrics").await;
    s.click("#comp-aurora").await;
    s.find("section[data-chart='db_cpu']").await;
    s.assert_absent("#unavailable", "no chart of Aurora left out").await;
    s.close().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn the_audit_log_is_filtered_a_record_opened_and_the_chains_verified() {
    tokio::time::timeout(TEST_LIMIT, audit_log()).await.expect("the test did not finish in time");
}

async fn audit_log() {
    use vigil_tests::platform_db::{generate, TestDb};
    let db = TestDb::create("vigil_e2e").await;
    let key = pj_audit::Ed25519SigningKey::from_bytes(&[5u8; 32]);
    generate(&db.pool, 2, 300, 100, &key).await;
    let s = launch().await;
    s.add_environment("audit-e2e", "emulator", "us-east-1", &format!("http://127.0.0.1:{}", free_port())).await;
    s.click("tr[data-env='audit-e2e'] .select-env").await;
    s.find("tr[data-env='audit-e2e'].is-current").await;
    // The compliance officer names the audit key the deployment published.
    s.click("tr[data-env='audit-e2e'] .edit-env").await;
    s.click("#env-deployment summary").await;
    s.type_into("#dep-audit_public_keys", &hex::encode(key.verifying_key().to_bytes())).await;
    s.click("#env-save").await;
    s.find("tr[data-env='audit-e2e']").await;

    // Where the platform database is; the check says it connected.
    s.click("#nav-audit").await;
    s.type_into("#db-host", "127.0.0.1").await;
    s.type_into("#db-port", &db.options.get_port().to_string()).await;
    s.type_into("#db-name", &db.name).await;
    s.type_into("#db-user", db.options.get_username()).await;
    s.find("#db-auth").await.select_by_value("trust").await.unwrap();
    s.click("#db-save").await;
    s.find("#db-status[data-ok='true']").await;

    // Opening the page lists the newest records but summarises nothing until asked (the
    // summary reads every matching record: seconds on millions).
    s.find("#audit-table tbody tr").await;
    s.find("#audit-summarise").await;
    s.assert_absent("#audit-summary", "no summary runs when the page opens").await;
    // Filter by a PHI category: only such records, newest first.
    s.type_into("#f-category", "ssn").await;
    s.click("#audit-search").await;
    s.find("#audit-table[data-searches='2']").await;
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_log WHERE category_counts ? 'ssn'").fetch_one(&db.pool).await.unwrap();
    let shown = s.client.find_all(Locator::Css("#audit-table tbody tr")).await.unwrap().len() as i64;
    assert_eq!(shown, n.min(100));
    assert_eq!(s.attr("#audit-summary", "data-records").await, n.to_string());
    s.screenshot("e2e-audit.png").await;

    // Export the filtered set as CSV evidence where the save dialog answers.
    s.click("#audit-export-csv").await;
    s.toast_starting("Exported ").await;
    let csv = s.saved_files();
    assert_eq!(csv.len(), 1, "{csv:?}");
    assert_eq!(std::fs::read_to_string(&csv[0]).unwrap().lines().count() as i64, n + 1);

    // The PDF report of the same search: written where the dialog answers, verified intact,
    // its hashes shown; the file is what the PDF SHA-256 says and holds the data SHA-256.
    s.click("#audit-export-pdf").await;
    s.find("#report-result[data-verification='intact']").await;
    assert_eq!(s.attr("#report-result", "data-records").await, n.to_string());
    s.screenshot("e2e-audit-report.png").await;
    let pdf = s.saved_files().into_iter().find(|p| p.extension().is_some_and(|e| e == "pdf")).expect("a PDF saved");
    let bytes = std::fs::read(&pdf).unwrap();
    assert_eq!(s.text("#report-sha").await.trim(), hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains(s.text("#report-data-sha").await.trim()), "{text}");
    assert!(text.contains("PHI category ssn"), "the filter is in the report: {text}");

    // Open a record: its hash and links hold.
    s.click("#audit-table tbody tr:first-child td:nth-child(2)").await;
    assert!(s.text("#detail-hash").await.contains("matches the content"));
    s.click("#detail-close").await;
    // The rows are reachable by keyboard: Enter on a focused row opens it too.
    s.find("#audit-table tbody tr:nth-child(2)").await.send_keys("\u{E007}").await.unwrap();
    s.find("#audit-detail[role='dialog']").await;
    s.click("#detail-close").await;

    // Verify: intact; after tampering, the break is named.
    s.click("#audit-verify").await;
    s.find("#verify-report[data-ok='true']").await;
    assert!(s.text("#verify-report").await.contains("Intact: 600 records in 2 streams"));
    sqlx::query("UPDATE audit_log SET actor = 'user:eve' WHERE stream_id = 'pj-worker-0' AND seq = 42").execute(&db.pool).await.unwrap();
    s.click("#audit-verify").await;
    s.find("#verify-report[data-ok='false'] li[data-stream='pj-worker-0'][data-break='modified']").await;
    s.screenshot("e2e-audit-verify.png").await;
    s.close().await;
    db.drop_db().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn a_long_report_shows_its_progress_and_can_be_cancelled() {
    tokio::time::timeout(TEST_LIMIT, report_cancel()).await.expect("the test did not finish in time");
}

async fn report_cancel() {
    use vigil_tests::platform_db::{generate, TestDb};
    // Enough records that the stage and the count show before the report is held (below).
    let db = TestDb::create("vigil_e2e").await;
    let key = pj_audit::Ed25519SigningKey::from_bytes(&[6u8; 32]);
    generate(&db.pool, 2, 150_000, 10_000, &key).await;
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| vigil_cli(data.path(), args);
    cli(&["env", "add", "big", "--region", "us-east-1", "--emulator", "--endpoint", &format!("http://127.0.0.1:{}", free_port())]);
    cli(&["env", "select", "big"]);
    cli(&["env", "edit", "big", "--param", &format!("audit_public_keys={}", hex::encode(key.verifying_key().to_bytes()))]);
    let port = db.options.get_port().to_string();
    cli(&["db", "set", "--host", "127.0.0.1", "--port", &port, "--database", &db.name, "--user", db.options.get_username(), "--auth", "trust"]);
    let s = launch_in(data, &[]).await;
    s.click("#nav-audit").await;
    s.find("#audit-table tbody tr").await;
    s.click("#audit-export-pdf").await;
    // The stage and the count move; Cancel stops the report and leaves no file.
    s.find("#work-progress[data-stage='verifying'][data-total='300000']").await;
    assert!(s.text("#work-progress").await.contains("of 300000 records"), "{}", s.text("#work-progress").await);
    // Hold the report where it is, however fast this build verifies: an exclusive lock on the
    // table makes its next page read wait. It cannot finish before Cancel is pressed.
    let mut hold = db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE").execute(&mut *hold).await.unwrap();
    s.assert_absent("#report-result", "the report is held, not finished").await;
    s.click("#work-cancel").await;
    hold.rollback().await.unwrap();
    s.toast_starting("Report cancelled").await;
    s.assert_absent("#work-progress", "the progress is gone").await;
    assert!(s.saved_files().is_empty(), "{:?}", s.saved_files());
    s.close().await;
    db.drop_db().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn a_read_only_console_shows_no_changing_action() {
    tokio::time::timeout(TEST_LIMIT, read_only()).await.expect("the test did not finish in time");
}

async fn read_only() {
    // An environment with a platform database, made beforehand with the CLI (built beside the app).
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| vigil_cli(data.path(), args);
    cli(&["env", "add", "ro", "--region", "us-east-1", "--emulator", "--endpoint", &format!("http://127.0.0.1:{}", free_port())]);
    cli(&["env", "select", "ro"]);
    cli(&["db", "set", "--host", "127.0.0.1", "--database", "postgres", "--user", "postgres", "--auth", "trust"]);
    let s = launch_in(data, &[("VIGIL_READ_ONLY", "1".to_string())]).await;
    s.find("#read-only").await;
    s.find("tr[data-env='ro'] .check-env").await;
    for css in ["#add-env", "tr[data-env='ro'] .edit-env", "tr[data-env='ro'] .remove-env"] {
        s.assert_absent(css, "a read-only console offers no change").await;
    }
    s.click("#nav-audit").await;
    s.find("#db-form").await;
    s.assert_absent("#db-save", "no Save of the database settings").await;
    // Evidence stays available to a compliance officer.
    for css in ["#audit-verify", "#audit-export-csv", "#audit-export-pdf"] {
        s.find(css).await;
    }
    s.close().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn a_failed_job_shows_its_log_lines_and_is_retried_through_the_queue() {
    tokio::time::timeout(TEST_LIMIT, failed_job()).await.expect("the test did not finish in time");
}

async fn failed_job() {
    use vigil_tests::platform_db::{insert_job, TestDb};
    let moto = Moto::start();
    let db = TestDb::create("vigil_e2e").await;
    let sdk = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("pj-work").send().await.unwrap().queue_url().unwrap().to_string();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group().log_group_name("/pj/e2e/worker").send().await.unwrap();
    logs.create_log_stream().log_group_name("/pj/e2e/worker").log_stream_name("pj-worker-0").send().await.unwrap();
    let corrupt = insert_job(&db, "failed", Some("corrupt"), true, "broken.pdf", 20).await;
    let slow = insert_job(&db, "failed", Some("ocr_timeout"), false, "scan.tiff", 10).await;
    insert_job(&db, "failed", Some("ocr_timeout"), false, "scan-2.tiff", 30).await;
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(chrono::Utc::now().timestamp_millis() - 600_000)
        .message(format!(r#"{{"level":"WARN","message":"job failed: OCR took too long","span":{{"job_id":"{slow}"}}}}"#))
        .build()
        .unwrap();
    logs.put_log_events().log_group_name("/pj/e2e/worker").log_stream_name("pj-worker-0").log_events(event).send().await.unwrap();

    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| vigil_cli(data.path(), args);
    cli(&[
        "env",
        "add",
        "ops",
        "--region",
        "us-east-1",
        "--emulator",
        "--endpoint",
        &moto.endpoint(),
        "--param",
        &format!("queue_url={queue}"),
        "--param",
        "log_group=/pj/e2e/worker",
    ]);
    cli(&["env", "select", "ops"]);
    let port = db.options.get_port().to_string();
    cli(&["db", "set", "--host", "127.0.0.1", "--port", &port, "--database", &db.name, "--user", db.options.get_username(), "--auth", "trust"]);
    let s = launch_in(data, &[]).await;

    // Failures by class, with what each means.
    s.click("#nav-jobs").await;
    s.find("#failure-groups .failure[data-class='ocr_timeout'][data-count='2']").await;
    assert!(s.text("#failure-groups .failure[data-class='corrupt']").await.contains("upload a good copy"));
    s.screenshot("e2e-jobs.png").await;
    // A permanent failure says why a retry will not help, and offers none.
    s.click(&format!("tr[data-job='{corrupt}'] td:nth-child(2)")).await;
    assert!(s.text("#job-no-retry").await.contains("upload a good copy"));
    s.assert_absent("#job-retry", "a permanent failure offers no retry").await;
    s.click("#job-close").await;
    // The slow one shows its log line, and is retried after a confirmation.
    s.click(&format!("tr[data-job='{slow}'] td:nth-child(2)")).await;
    assert!(s.text("#job-logs").await.contains("OCR took too long"));
    s.click("#job-retry").await;
    s.click("#confirm-retry").await;
    s.toast_starting("Re-queued 1 job").await;
    let got = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies.len(), 1);
    assert!(bodies[0].contains("input/scan.tiff"), "{bodies:?}");
    s.close().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app; run scripts/test"]
async fn an_aws_fault_shows_its_classified_message_and_the_next_refresh_recovers() {
    tokio::time::timeout(TEST_LIMIT, aws_fault_in_the_window()).await.expect("the test did not finish in time");
}

/// The fault injector between the app and the emulator: what the operator sees of an AWS
/// failure on a page (the classified message and what to do), and that the next refresh works.
async fn aws_fault_in_the_window() {
    use vigil_tests::faults::{Fault, FaultProxy};
    const ENV: &str = "faulty";
    let moto = Moto::start();
    let cw = aws_sdk_cloudwatch::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let alarm = put_failed_jobs_alarm(&cw, ENV).await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let s = launch().await;
    s.add_environment(ENV, "emulator", "us-east-1", &proxy.endpoint()).await;
    s.click(&format!("tr[data-env='{ENV}'] .select-env")).await;
    s.find(&format!("tr[data-env='{ENV}'].is-current")).await;

    // Expired credentials on the Alarms page: the classified message, what to do, no table.
    proxy.inject("monitoring", Some("DescribeAlarms"), Fault::ExpiredToken, 100);
    s.click("#nav-alarms").await;
    let error = "#alarms-state[data-state='error'] .async-error[data-kind='expired_credentials']";
    let text = s.text(error).await;
    assert!(text.contains("cloudwatch:DescribeAlarms"), "the message names the call: {text}");
    assert!(text.contains("What to do:"), "the message says what to do: {text}");
    s.assert_absent("#alarms-table", "nothing half-shown after a failed listing").await;
    s.screenshot("e2e-fault-alarms.png").await;
    // The fault gone, Refresh lists the alarm.
    proxy.clear();
    s.click("#alarms-refresh").await;
    s.find(&format!("#alarms-state[data-state='ready'] tr[data-alarm='{alarm}']")).await;

    // Throttling on a dashboard refresh: the error, over the charts already shown (stale, and
    // said so); the next refresh clears it.
    s.click("#nav-metrics").await;
    s.find("#dash-state[data-state='ready'] section[data-chart='documents']").await;
    let before = proxy.count("monitoring", Some("GetMetricData"));
    proxy.inject("monitoring", Some("GetMetricData"), Fault::Throttle { retry_after: Some(1) }, 100);
    s.click("#refresh").await;
    let text = s.text("#dash-state[data-state='error'] .async-error[data-kind='throttled']").await;
    assert!(text.contains("fetched before"), "the charts shown are said to be stale: {text}");
    s.find("#dash-state section[data-chart='documents']").await;
    assert_eq!(proxy.count("monitoring", Some("GetMetricData")) - before, 2, "the throttled call was tried twice (the app's attempts), no more");
    proxy.clear();
    s.click("#refresh").await;
    s.find("#dash-state[data-state='ready'] section[data-chart='documents'][data-error='false']").await;
    s.close().await;
}

#[tokio::test]
#[ignore = "needs the built app; run scripts/test"]
async fn the_deploy_wizard_takes_a_fresh_sandbox_to_a_deployed_platform_whose_charts_all_resolve_then_tears_it_down() {
    tokio::time::timeout(TEST_LIMIT, deploy_wizard()).await.expect("the test did not finish in time");
}

async fn deploy_wizard() {
    // The deployed EKS cluster's API is the harness's fake; its Aurora the tests' PostgreSQL.
    let (moto, _kube) = vigil_tests::platform().await;
    let bundle = vigil_tests::signed_bundle("1.0.0", |_| {});
    let data = tempfile::tempdir().unwrap();
    // A fresh sandbox environment, and the test publisher trusted (as scripts/run trusts the
    // machine's build key).
    vigil_cli(data.path(), &["sandbox", "attach", &moto.endpoint()]);
    vigil_cli(data.path(), &["deploy", "trust", "--name", "Patient Journey test releases", "--key", &vigil_tests::bundle_public_key()]);
    // The newer bundle the operator opens for the upgrade (the folder dialog answered with it).
    let newer = vigil_tests::signed_bundle("1.1.0", |dir| {
        std::fs::write(dir.join("migrations/0004_upgrade_marker.sql"), "CREATE TABLE upgrade_marker (id int PRIMARY KEY);\n").unwrap();
    });
    let s =
        launch_in(data, &[("VIGIL_BUNDLE_DIR", bundle.path().display().to_string()), ("VIGIL_OPEN_DIR", newer.path().display().to_string())]).await;

    s.click("#nav-deploy").await;
    assert_eq!(s.text("#bundle-version").await, "patient-journey 1.0.0");
    assert_eq!(s.text("#bundle-signer").await, "Patient Journey test releases");
    s.click("#deploy-preflight").await;
    s.find("#preflight-summary[data-ready='true']").await;
    for check in ["identity", "permissions", "quotas", "zones", "cidr", "instance-type", "database-class", "stacks"] {
        s.find(&format!("#preflight-checks tr[data-check='{check}'][data-status='pass']")).await;
    }
    // The emulator's account has no trail or Config recorder: warnings with what to do.
    s.find("#preflight-checks tr[data-check='cloudtrail'][data-status='warn']").await;
    s.click("#deploy-plan").await;
    let total: f64 = s.attr("#deploy-cost", "data-total").await.parse().unwrap();
    assert!((2500.0..3500.0).contains(&total), "{total}");
    assert!(s.text("#deploy-cost-notes").await.contains("no Price List API"));
    s.find("#deploy-stacks tr[data-stack='alarms'][data-action='create']").await;
    s.assert_absent("#deploy-gates", "a first deploy replaces nothing").await;
    s.screenshot("deploy-plan.png").await;
    s.click("#deploy-apply").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#deploy-progress[data-state='succeeded']"))
        .await
        .expect("the deployment finished");
    assert_eq!(s.attr("#deploy-progress", "data-done").await, s.attr("#deploy-progress", "data-total").await);
    s.find("#deploy-progress-stacks tr[data-stack='cluster'][data-state='done']").await;
    // The platform was set up after its stacks: keys, database, manifests, the worker's rollout.
    for step in ["keys", "database", "kubernetes", "rollout"] {
        s.find(&format!("#deploy-setup tr[data-step='{step}'][data-state='done']")).await;
    }
    // The wizard validates what it deployed on its own, then writes the deployment record.
    s.find("#validate-summary[data-ok='true']").await;
    for check in [
        "stacks",
        "eks-cluster",
        "eks-nodes",
        "worker",
        "aurora",
        "aurora-zones",
        "cache",
        "bucket",
        "queue",
        "backup-plan",
        "backup-coverage",
        "alarms",
        "smoke",
    ] {
        s.find(&format!("#validate-checks tr[data-check='{check}'][data-status='pass']")).await;
    }
    s.screenshot("deploy-done.png").await;
    s.click("#deploy-record").await;
    let sha = s.text("#deploy-record-sha").await;
    let written: Vec<_> = std::fs::read_dir(s.saves.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].file_name().unwrap().to_string_lossy().starts_with("deployment-record-sandbox-"), "{written:?}");
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(std::fs::read(&written[0]).unwrap())));

    // Every chart of every component finds its metrics' names: none is left out for a missing
    // deployment parameter.
    s.click("#nav-metrics").await;
    s.find("#dash-state[data-state='ready']").await;
    s.find("section.chart-card[data-chart='documents']").await;
    s.assert_absent("#unavailable", "the deploy filled every deployment parameter").await;
    s.assert_absent("section.chart-card[data-error='true']", "every chart's query was accepted").await;
    s.screenshot("deploy-metrics.png").await;

    // Backups: the database is restorable by its point-in-time recovery; the bucket, covered by
    // the plan, has no recovery point yet; what AWS Backup cannot protect says how it comes back.
    s.click("#nav-backups").await;
    s.find("#backup-state[data-state='ready']").await;
    s.find("#backup-coverage tr[data-component='aurora'][data-status='meets RPO']").await;
    s.find("#backup-coverage tr[data-component='documents'][data-status='at risk']").await;
    s.find("#backup-coverage tr[data-component='queue'][data-status='recoverable']").await;
    s.find("#backup-vaults tr[data-vault='pj-sandbox']").await;
    s.find("#backup-plans tr[data-rule]").await;
    s.screenshot("backups.png").await;
    s.click("#backup-tab-jobs").await;
    s.find("#backup-jobs-state[data-state='empty']").await;

    // An on-demand backup of the database, held until its name is typed.
    s.click("#backup-tab-coverage").await;
    s.click("#backup-now-aurora").await;
    let db = s.attr("#backup-now-confirm", "placeholder").await;
    s.find("#backup-now-start[disabled]").await;
    s.type_into("#backup-now-confirm", &db).await;
    s.click("#backup-now-start:not([disabled])").await;
    s.toast_starting("Backup job").await;
    // A backup of a cluster that is gone (started outside Vigil) fails: seen with what it means.
    let cluster_arn = s.text("#backup-coverage tr[data-component='aurora'] .mono").await;
    let sdk = aws_sdk_backup::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    sdk.start_backup_job()
        .backup_vault_name("pj-sandbox")
        .resource_arn(cluster_arn.replace(":cluster:", ":cluster:gone-"))
        .iam_role_arn("arn:aws:iam::123456789012:role/backup")
        .send()
        .await
        .unwrap();
    s.click("#backup-tab-jobs").await;
    s.find("#backup-jobs tr[data-state='COMPLETED']").await;
    s.click("#jobs-failed-only").await;
    s.find("#backup-jobs tr[data-state='FAILED']").await;
    assert!(s.text("#backup-jobs tr[data-state='FAILED'] .hint").await.contains("no longer exists"));
    s.screenshot("backup-jobs-failed.png").await;
    // Its events, as AWS Backup sent them to the backup stack's log group: started, then failed.
    s.click("#backup-jobs tr[data-state='FAILED'] button.events").await;
    s.find("#job-events tr[data-state='RUNNING']").await;
    assert!(s.text("#job-events tr[data-state='FAILED']").await.contains("not found"));
    s.screenshot("backup-job-events.png").await;
    s.click("#job-events-close").await;

    // The database's recovery point restored to a new cluster: instances added, its settings
    // the source's, the time kept against the RTO.
    s.click("#backup-tab-points").await;
    s.click("#backup-points tr[data-type='Aurora'][data-status='COMPLETED'] button.restore").await;
    let target = s.find("#restore-target").await.prop("value").await.unwrap().unwrap_or_default();
    assert!(target.starts_with(&format!("{db}-restored-")), "{target}");
    s.find("#restore-start[disabled]").await;
    s.type_into("#restore-confirm", &target).await;
    s.click("#restore-start:not([disabled])").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#restore-result[data-state='restored'][data-rto-met='true']"))
        .await
        .expect("the restore finished");
    s.find("#restore-checks tr[data-check='iam_auth'][data-matches='true']").await;
    s.assert_absent("#restore-checks tr[data-matches='false']", "the restored cluster's settings are the source's").await;
    s.screenshot("backup-restore.png").await;
    s.click("#restore-close").await;
    s.click("#backup-tab-restores").await;
    s.find(&format!("#backup-restores tr[data-target='{target}'][data-state='restored']")).await;

    // The platform pointed at the restored cluster (its data read first, the worker restarted
    // onto it), then back at its own.
    s.click(&format!("#backup-restores tr[data-target='{target}'] button.use-cluster")).await;
    s.find("#use-cluster-start[disabled]").await;
    s.type_into("#use-cluster-confirm", &target).await;
    s.click("#use-cluster-start:not([disabled])").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css(&format!("#use-cluster-result[data-cluster='{target}']")))
        .await
        .expect("the platform was pointed at the restored cluster");
    s.screenshot("backup-use-cluster.png").await;
    s.click("#use-cluster-close").await;
    assert!(s.text("#platform-moved").await.contains(&target));
    s.click("#use-cluster-back").await;
    s.type_into("#use-cluster-confirm", &db).await;
    s.click("#use-cluster-start:not([disabled])").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css(&format!("#use-cluster-result[data-cluster='{db}']")))
        .await
        .expect("the platform was pointed back");
    s.click("#use-cluster-close").await;
    s.assert_absent("#platform-moved", "the platform is back on its own cluster").await;

    // A restore test: each protected resource's latest point restored, validated, deleted.
    s.click("#restore-test-open").await;
    s.find("#restore-test-start[disabled]").await;
    s.type_into("#restore-test-confirm", "sandbox").await;
    s.click("#restore-test-start:not([disabled])").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(180))
        .for_element(Locator::Css("#restore-test-result[data-passed='true']"))
        .await
        .expect("the restore test passed");
    s.find("#restore-test-result #restore-checks tr[data-check='schema_version'][data-matches='true']").await;
    s.assert_absent("#restore-test-result .badge.bad", "a test that passed is not shown as a failure").await;
    s.screenshot("backup-restore-test.png").await;
    s.click("#restore-test-close").await;
    s.find("#backup-restores tr[data-test='true'][data-state='tested'][data-passed='true']").await;

    // Compliance: each control with its evidence per resource; the report exported as PDF.
    s.click("#backup-tab-compliance").await;
    s.find("#compliance-state[data-state='ready']").await;
    s.find("#compliance-controls tr[data-control='BACKUP_RECOVERY_POINT_ENCRYPTED'][data-status='pass']").await;
    s.find("#compliance-controls tr[data-control='BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION'][data-status='fail']").await;
    s.click("#compliance-controls tr[data-control='PJ_RESTORE_TEST_WITHIN_30_DAYS'] td").await;
    s.find(&format!("#compliance-controls tr.detail[data-resource='{cluster_arn}'][data-status='pass']")).await;
    s.screenshot("backup-compliance.png").await;
    let before = s.saved_files().len();
    s.click("#compliance-export-pdf").await;
    s.toast_starting("Wrote").await;
    let written = s.saved_files();
    assert_eq!(written.len(), before + 1);
    assert!(written.iter().any(|p| p.extension().is_some_and(|e| e == "pdf") && std::fs::read(p).unwrap().starts_with(b"%PDF-")));

    // Upgrade: the newer bundle opened, what it changes and the cost delta shown, applied after a
    // snapshot of the database.
    s.click("#nav-deploy").await;
    s.click("#deploy-open-bundle").await;
    s.find("#bundle-version[data-version='1.1.0']").await;
    s.click("#deploy-plan").await;
    s.find("#deploy-upgrade[data-from='1.0.0'][data-to='1.1.0']").await;
    s.find("#deploy-upgrade-files tr[data-area='migrations'][data-change='added']").await;
    s.find("#deploy-upgrade-files tr[data-area='image']").await;
    s.find("#deploy-upgrade-cost[data-delta='0']").await;
    s.screenshot("deploy-upgrade-plan.png").await;
    s.click("#deploy-apply").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#deploy-progress[data-state='succeeded'] #deploy-snapshot[data-state='done']"))
        .await
        .expect("the upgrade finished");

    // Teardown: planned, held until the environment's name is typed, then every stack goes and
    // what was kept is listed (the final snapshot among it).
    s.click("#nav-deploy").await;
    s.click("#deploy-teardown-plan").await;
    s.find("#deploy-teardown-stacks tr[data-stack='database']").await;
    s.find("#deploy-teardown-apply[disabled]").await;
    s.type_into("#deploy-teardown-confirm", "Sandbox").await;
    s.find("#deploy-teardown-apply[disabled]").await;
    s.type_into("#deploy-teardown-confirm", "sandbox").await;
    s.click("#deploy-teardown-apply:not([disabled])").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#deploy-progress[data-kind='teardown'][data-state='succeeded']"))
        .await
        .expect("the teardown finished");
    s.find("#deploy-kept li[data-kept='AWS::RDS::DBClusterSnapshot']").await;
    s.find("#deploy-kept li[data-kept='AWS::S3::Bucket']").await;
    s.screenshot("deploy-teardown.png").await;
    s.close().await;
}

// Multi-threaded: the CLI that deploys blocks a thread while the fake cluster answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app; run scripts/test"]
async fn the_in_region_failover_drill_runs_from_the_dr_page_with_its_confirmation_progress_and_report() {
    tokio::time::timeout(TEST_LIMIT, dr_drill()).await.expect("the test did not finish in time");
}

async fn dr_drill() {
    // A sandbox with the platform deployed (through the CLI), the console signed in to the
    // platform database as the sandbox's superuser, as scripts/run does.
    let (moto, _kube) = vigil_tests::platform().await;
    let (bundle, data, env) = deployed_sandbox(&moto.endpoint());
    let b = bundle.path().display().to_string();
    let d = data.path();
    let db = env["deployment"]["db_cluster_id"].as_str().unwrap().to_string();
    let set = vigil_tests::superuser_db_set(&env);
    vigil_cli(d, &set.iter().map(String::as_str).collect::<Vec<_>>());
    let s = launch_in(data, &[("VIGIL_BUNDLE_DIR", b.clone())]).await;

    // Every runbook of the bundle, none run yet.
    s.click("#nav-dr").await;
    s.find("#dr-state[data-state='ready']").await;
    s.find("#runbooks-table tr[data-runbook='aurora-global-failover']").await;
    s.find("#runbooks-table tr[data-runbook='aurora-failover'] td.last-run[data-state='']").await;
    s.click("#runbooks-table tr[data-runbook='aurora-failover'] td:nth-child(2)").await;
    s.find("#runbook-steps li[data-step='failover']").await;
    // The dry run against the live account: ready.
    s.click("#runbook-dry-run").await;
    s.find("#dry-run[data-ready='true']").await;
    s.find("#dry-run tr[data-phase='iam'][data-ok='true']").await;
    s.screenshot("dr-dry-run.png").await;
    // The drill, said plainly against what it acts on.
    s.click("#runbook-drill").await;
    assert!(s.text("#run-target").await.contains("the sandbox platform of environment sandbox"), "{}", s.text("#run-target").await);
    s.click("#start-run").await;
    s.find("#dr-run[data-state='awaiting_approval']").await;
    s.find("#dr-run-steps tr[data-step='find-target'][data-state='done']").await;
    // The approval needs the cluster's name typed.
    let disabled = |s: &Session| {
        let c = s.client.clone();
        async move { c.execute("return document.querySelector('#dr-approve').disabled", vec![]).await.unwrap() }
    };
    assert_eq!(disabled(&s).await, serde_json::Value::Bool(true), "approvable before the name is typed");
    s.type_into("#dr-approve-confirm", &db).await;
    assert_eq!(disabled(&s).await, serde_json::Value::Bool(false));
    s.screenshot("dr-approval.png").await;
    s.click("#dr-approve").await;
    // Its progress while it waits for the writer to move (the app polls every 10 s).
    s.find("#dr-run-progress progress").await;
    s.client.wait().at_most(Duration::from_secs(120)).for_element(Locator::Css("#dr-run[data-state='succeeded']")).await.expect("the drill finished");
    for step in ["find-target", "approve", "failover", "reconnect"] {
        s.find(&format!("#dr-run-steps tr[data-step='{step}'][data-state='done']")).await;
    }
    assert!(s.text("#dr-rto").await.contains("met"), "{}", s.text("#dr-rto").await);
    assert!(s.text("#dr-rpo").await.starts_with("0.0 s"), "{}", s.text("#dr-rpo").await);
    s.screenshot("dr-drill-done.png").await;
    // The drill report, its SHA-256 the file's.
    s.click("#dr-report").await;
    let sha = s.text("#dr-report-sha").await;
    let written = s.saved_files();
    assert_eq!(written.len(), 1, "{written:?}");
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(std::fs::read(&written[0]).unwrap())));
    // The runbook's last drill, its result and its age.
    s.find("#runbooks-table tr[data-runbook='aurora-failover'] td.last-run[data-state='succeeded']").await;
    s.find("#runs-table tr[data-state='succeeded']").await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app; run scripts/test"]
async fn the_services_page_shows_the_deployed_cluster_an_add_on_that_blocks_the_next_version_and_refreshes_insights() {
    tokio::time::timeout(TEST_LIMIT, services_page()).await.expect("the test did not finish in time");
}

async fn services_page() {
    let (moto, _kube) = vigil_tests::platform().await;
    let (_bundle, data, env) = deployed_sandbox(&moto.endpoint());
    let cluster = env["deployment"]["cluster_name"].as_str().unwrap().to_string();
    // An operator installed coredns at a version that does not run on the next Kubernetes.
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new(env["region"].as_str().unwrap().to_string()))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_eks::config::Credentials::new("test", "test", None, None, "test"))
        .build();
    let eks = aws_sdk_eks::Client::from_conf(conf);
    eks.create_addon().cluster_name(&cluster).addon_name("coredns").addon_version("v1.12.1-eksbuild.2").send().await.unwrap();
    let s = launch_in(data, &[]).await;

    s.click("#nav-services").await;
    s.find("#services-state[data-state='ready']").await;
    assert_eq!(s.text("#cluster-name").await, cluster);
    assert_eq!(s.text("#cluster-status").await, "ACTIVE");
    assert!(s.text("#cluster-version").await.starts_with("1.35"), "{}", s.text("#cluster-version").await);
    assert_eq!(s.text("#next-version").await, "1.36");
    let support = s.attr("#support-status", "data-status").await;
    assert!(["STANDARD_SUPPORT", "EXTENDED_SUPPORT", "UNSUPPORTED"].contains(&support.as_str()), "{support}");
    assert!(s.text("#support-status").await.contains("day"), "{}", s.text("#support-status").await);
    s.find("#nodegroups-table tr[data-status='ACTIVE']").await;
    s.find("#addons-table tr[data-addon='coredns'][data-fits='false']").await;
    assert!(
        s.text("#addons-table tr[data-addon='coredns']").await.contains("v1.13.0-eksbuild.1"),
        "{}",
        s.text("#addons-table tr[data-addon='coredns']").await
    );
    // Who may use the cluster: the console's own credentials made it.
    s.find("#access-table tr[data-caller='true']").await;
    s.assert_absent("#access-missing", "the cluster's creator has access").await;
    let blocking = s.text("#insights-table tr[data-status='ERROR']").await;
    assert!(blocking.contains("coredns"), "{blocking}");
    s.screenshot("services.png").await;

    // A refresh asked of EKS, said in a toast, its state shown, and in the operator log.
    s.click("#refresh-insights").await;
    s.toast_starting("EKS is evaluating the upgrade insights again").await;
    s.find("#services-state[data-state='ready']").await;
    let log: serde_json::Value = serde_json::from_str(&vigil_cli_out(s.data.path(), &["oplog", "list", "--json"])).unwrap();
    let refresh = log.as_array().unwrap().iter().find(|e| e["action"] == "eks.insights_refresh").expect("the refresh is in the operator log");
    assert_eq!(refresh["target"], cluster.as_str());
    s.close().await;
}

// Multi-threaded: the fake Kubernetes API serves the CLI's deploy while the test waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app; run scripts/test"]
async fn a_stuck_rollouts_cause_shows_on_the_services_page_and_a_rollback_from_there_ends_it() {
    tokio::time::timeout(TEST_LIMIT, stuck_rollout()).await.expect("the test did not finish in time");
}

async fn stuck_rollout() {
    let (moto, kube) = vigil_tests::platform().await;
    let (_bundle, data, env) = deployed_sandbox(&moto.endpoint());
    let name = env["name"].as_str().unwrap().to_string();
    // A new template whose image cannot be pulled: the rollout never finishes.
    kube.set_rollout(vigil_tests::kube::RolloutMode::Stuck(vigil_tests::kube::Stuck::ImagePull));
    vigil_cli(data.path(), &["eks", "restart", "--confirm", &name]);
    let s = launch_in(data, &[]).await;

    s.click("#nav-services").await;
    s.find("#workloads-state[data-state='ready']").await;
    s.find("#rollout-state[data-state='stuck']").await;
    s.find("#rollout-cause[data-kind='image_pull']").await;
    let cause = s.text("#rollout-cause").await;
    assert!(cause.contains("ImagePullBackOff") && cause.contains("ECR"), "{cause}");
    s.find("#pods-table tr[data-ready='false']").await;
    s.find("#events-table tr[data-reason='Failed']").await;
    s.find("#history-table tr[data-revision='2'][data-current='true']").await;
    // The worker's own logs, across its pods.
    s.click("#logs-show").await;
    s.find("#log-lines:not([data-lines='0'])").await;
    let logs = s.text("#log-lines").await;
    assert!(logs.contains("pj-worker-"), "{logs}");
    s.screenshot("services-stuck.png").await;

    // Rolled back to the revision before, confirmed by the environment's name.
    s.click("#rollback-1").await;
    s.find("#workload-confirm-dialog").await;
    s.type_into("#workload-confirm", &name).await;
    s.click("#workload-confirm-go").await;
    s.toast_starting("pj-worker: rolled back from revision 2 to revision 1").await;
    // Rolling out (the fake's controller moves a step per read), then rolled out.
    s.find("#rollout-state[data-state='progressing']").await;
    s.click("#workloads-refresh").await;
    s.find("#rollout-state[data-state='rolled_out']").await;
    s.find("#history-table tr[data-revision='3'][data-current='true']").await;
    s.assert_absent("#rollout-cause", "a rolled-out worker has no stuck cause").await;
    let log: serde_json::Value = serde_json::from_str(&vigil_cli_out(s.data.path(), &["oplog", "list", "--json"])).unwrap();
    let rollback = log.as_array().unwrap().iter().find(|e| e["action"] == "eks.rollback").expect("the rollback is in the operator log");
    assert_eq!(rollback["target"], "pj-worker");
    s.close().await;
}

// Multi-threaded: the fake Kubernetes API answers the app while the test waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app; run scripts/test"]
async fn the_upgrade_cockpit_names_a_blocker_then_upgrades_the_cluster_from_the_services_page_and_the_timeline_has_it() {
    tokio::time::timeout(TEST_LIMIT, upgrade_cockpit()).await.expect("the test did not finish in time");
}

async fn upgrade_cockpit() {
    let (moto, kube) = vigil_tests::platform().await;
    let (bundle, data, env) = deployed_sandbox(&moto.endpoint());
    let cluster = env["deployment"]["cluster_name"].as_str().unwrap().to_string();
    // Another team's pod under a budget that lets none of its pods be evicted.
    kube.budgeted_pod("kube-system", "metrics", 1);
    let s = launch_in(data, &[("VIGIL_DR_POLL_MS", "20".into()), ("VIGIL_BUNDLE_DIR", bundle.path().display().to_string())]).await;

    s.click("#nav-services").await;
    s.find("#upgrade:not([data-state='loading'])").await;
    assert_eq!(s.attr("#upgrade", "data-state").await, "ready", "{}", s.text("#upgrade").await);
    s.find("#upgrade-blockers li[data-kind='budget'][data-subject='kube-system/metrics']").await;
    assert!(s.text("#upgrade-blocked").await.contains("from 1.35 to 1.36"), "{}", s.text("#upgrade-blocked").await);
    s.find("#budgets-table tr[data-budget='kube-system/metrics'][data-allowed='0']").await;
    s.find("#budgets-table tr[data-budget='patient-journey/pj-worker'][data-allowed='1']").await;
    s.find("#upgrade-start[disabled]").await;
    s.client.execute("document.getElementById('upgrade').scrollIntoView({block: 'start'});", vec![]).await.unwrap();
    s.screenshot("services-upgrade.png").await;

    // The budget given room, checked again: nothing blocks it; started with the cluster's name.
    kube.budgeted_pod("kube-system", "metrics", 0);
    s.click("#upgrade-check").await;
    s.find("#upgrade-ready").await;
    s.find("#upgrade-steps tr[data-step='control-plane']").await;
    s.click("#upgrade-start").await;
    s.find("#upgrade-confirm-dialog").await;
    s.find("#upgrade-go[disabled]").await;
    s.type_into("#upgrade-confirm", &cluster).await;
    s.click("#upgrade-go").await;
    s.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#upgrade-run[data-state='succeeded']"))
        .await
        .expect("the upgrade finished");
    for step in ["approve", "addons-before", "control-plane", "addons-after", "nodegroups", "worker"] {
        s.find(&format!("#upgrade-run-steps tr[data-step='{step}'][data-state='done']")).await;
    }
    s.toast_starting("The cluster runs Kubernetes 1.36 now").await;
    // The cockpit now looks at the next version.
    s.find("#upgrade-ready, #upgrade-blocked, #upgrade-error, #upgrade-newest").await;
    let text = s.text("#upgrade").await;
    assert!(text.contains("from 1.36 to 1.37") && s.find("#upgrade-ready").await.is_displayed().await.unwrap(), "{text}");
    let log: serde_json::Value = serde_json::from_str(&vigil_cli_out(s.data.path(), &["oplog", "list", "--json"])).unwrap();
    let started = log.as_array().unwrap().iter().find(|e| e["action"] == "dr.run_started").expect("the upgrade's run is in the operator log");
    assert!(started["details"].as_str().unwrap().contains("\"runbook\":\"eks-upgrade\""), "{started}");
    let b = bundle.path().display().to_string();
    let out = vigil_cli_out(s.data.path(), &["eks", "upgrade-plan", "--bundle", &b, "--json"]);
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((p["from"].as_str(), p["nodegroups"][0]["version"].as_str()), (Some("1.36"), Some("1.36")));

    // The environment's timeline has the upgrade: EKS's updates and the run's steps, beside the
    // deploy's stack events; a source can be hidden.
    s.click("#nav-timeline").await;
    s.find("#timeline[data-state='ready']").await;
    s.find("#timeline-table tr[data-source='eks'][data-level='ok']").await;
    s.find("#timeline-table tr[data-source='runbook']").await;
    s.find("#timeline-table tr[data-source='cloudformation']").await;
    s.assert_absent("#timeline-sources li", "every source was read").await;
    s.screenshot("timeline.png").await;
    s.click("#timeline-show-cloudformation").await;
    s.assert_absent("#timeline-table tr[data-source='cloudformation']", "CloudFormation is hidden").await;
    s.find("#timeline-table tr[data-source='eks']").await;
    s.close().await;
}
