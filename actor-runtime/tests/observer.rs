//! The observer page in a real headless browser (Debian's chromium, driven over WebDriver by
//! chromedriver): it loads, draws the supervision tree of a running system, shows an actor's
//! details on click, kills it from the page, and shows the restarted child. Also its JSON
//! routes, and that kill is refused unless allowed.
//!
//! `OBSERVER_SCREENSHOT=path.png` saves a screenshot of the page (the book's is made so).

use std::net::{SocketAddr, TcpListener};
use std::process::{Child as Process, Command, Stdio};
use std::time::Duration;

use actor_runtime::io::observer::Observer;
use actor_runtime::prelude::*;
use fantoccini::{Client, ClientBuilder, Locator};

#[actor(mailbox = 64)]
struct Pump {
    pumped: u64,
}

#[actor]
impl Pump {
    #[init]
    fn init() -> Self {
        Pump { pumped: 0 }
    }

    #[handle(cast)]
    fn pump(&mut self) {
        self.pumped += 1;
    }
}

#[actor]
struct Valve;

#[actor]
impl Valve {
    #[init]
    fn init() -> Self {
        Valve
    }

    #[handle(call)]
    fn open(&self) -> bool {
        true
    }
}

#[supervisor(one_for_one, intensity = 3, period = "10s")]
struct Plant {
    pump: Child<Pump>,
    valve: Child<Valve>,
}

/// Keeps the pump busy so the page has a rate to show.
fn feed(plant: &Plant) -> tokio::task::JoinHandle<()> {
    let pump = plant.pump.clone();
    tokio::spawn(async move {
        loop {
            if let Some(addr) = pump.addr() {
                let _ = addr.pump();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
}

struct Driver {
    process: Process,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Chromedriver on a free port. A port found free by binding and releasing it can be taken before
/// chromedriver binds it; chromedriver then exits, and it is started again on another port.
async fn start_driver() -> Driver {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    for _ in 0..5 {
        let port = free_port();
        let process = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {path} ({e}): install Debian's chromium and chromium-driver (scripts/test-all does), or set CHROMEDRIVER")
            });
        let mut driver = Driver { process, port };
        for _ in 0..200 {
            if driver.process.try_wait().expect("try_wait").is_some() {
                break;
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if driver.process.try_wait().expect("try_wait").is_none() {
            panic!("chromedriver did not listen on port {port} within 10 s");
        }
    }
    panic!("chromedriver exited at start five times");
}

async fn browser(driver: &Driver) -> Client {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,860"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless chromium")
}

fn row(pid: Pid) -> Locator<'static> {
    Locator::Css(Box::leak(
        format!(".row[data-pid=\"{}\"]", pid.id()).into_boxed_str(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_tree_and_an_actor_killed_from_it_comes_back_restarted() {
    let plant = Plant::start().await.expect("starts");
    let sup = plant.supervisor().expect("runs");
    let feeder = feed(&plant);
    let observer = Observer::new()
        .allow_kill(true)
        .period(Duration::from_millis(200))
        .serve(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("serves");
    let url = format!("http://{}/", observer.local_addr());

    let driver = start_driver().await;
    let page = browser(&driver).await;
    page.goto(&url).await.expect("the page loads");
    let wait = Duration::from_secs(10);

    // The tree: the supervisor, with its two children drawn under it.
    let pump = plant.pump.addr().expect("running").pid();
    let sup_row = page
        .wait()
        .at_most(wait)
        .for_element(row(sup.pid()))
        .await
        .expect("the supervisor is drawn");
    assert!(sup_row.text().await.expect("text").contains("one_for_one"));
    page.wait()
        .at_most(wait)
        .for_element(row(pump))
        .await
        .expect("the pump is drawn");
    let valve = plant.valve.addr().expect("running").pid();
    let under: Vec<serde_json::Value> = [pump, valve]
        .iter()
        .map(|pid| serde_json::Value::from(pid.id().to_string()))
        .collect();
    let parents = page
        .execute(
            "return [...arguments].map(id => document.querySelector(`.row[data-pid=\"${id}\"]`).closest('ul').parentElement.firstChild.dataset.pid);",
            under,
        )
        .await
        .expect("script runs");
    let sup_id = sup.pid().id().to_string();
    assert_eq!(
        parents,
        serde_json::json!([sup_id, sup_id]),
        "both children under the supervisor"
    );

    // Rates arrive with the second event: the pump handles about 500 casts a second.
    page.wait()
        .at_most(wait)
        .for_element(Locator::XPath(Box::leak(
            format!(
                "//div[@data-pid='{}']/span[@class='rate' and text()!='–' and text()!='0.0']",
                pump.id()
            )
            .into_boxed_str(),
        )))
        .await
        .expect("the pump shows a message rate");

    // Click: details with links, then kill from the page.
    page.find(row(pump))
        .await
        .expect("row")
        .click()
        .await
        .expect("click");
    let details = page
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#details dl"))
        .await
        .expect("details shown");
    let text = details.text().await.expect("text");
    assert!(
        text.contains(&sup.pid().to_string()),
        "links name the supervisor: {text}"
    );
    page.find(Locator::Css("#kill"))
        .await
        .expect("a kill button, kill being allowed")
        .click()
        .await
        .expect("click");

    // The page updates: the supervisor shows one restart and a new pump pid is drawn.
    page.wait()
        .at_most(wait)
        .for_element(Locator::Css(Box::leak(
            format!(
                ".row[data-pid=\"{}\"] .restarts[data-restarts=\"1\"]",
                sup.pid().id()
            )
            .into_boxed_str(),
        )))
        .await
        .expect("the supervisor's row shows the restart");
    let restarted = plant.pump.addr().expect("restarted").pid();
    assert_ne!(restarted, pump);
    page.wait()
        .at_most(wait)
        .for_element(row(restarted))
        .await
        .expect("the new pump is drawn");
    assert!(
        page.find(row(pump)).await.is_err(),
        "the killed pump is gone"
    );

    // Its exit is listed with its reason.
    let exits = page
        .find(Locator::Css("#exits"))
        .await
        .expect("exits")
        .text()
        .await
        .expect("text");
    assert!(
        exits.contains(&format!("{pump}")) && exits.contains("killed"),
        "{exits}"
    );

    if let Ok(path) = std::env::var("OBSERVER_SCREENSHOT") {
        page.find(row(restarted))
            .await
            .expect("row")
            .click()
            .await
            .expect("click");
        page.wait()
            .at_most(wait)
            .for_element(Locator::Css("#details dl"))
            .await
            .expect("details");
        tokio::time::sleep(Duration::from_millis(600)).await;
        let png = page.screenshot().await.expect("a screenshot");
        std::fs::write(&path, png).expect("screenshot written");
    }
    page.close().await.expect("session closed");
    feeder.abort();
}

#[tokio::test]
async fn the_json_routes_describe_actors_and_refuse_kill_unless_allowed() {
    let plant = Plant::start().await.expect("starts");
    let valve = plant.valve.addr().expect("running");
    assert!(valve.open().await.expect("answers"));
    let server = Observer::new()
        .serve(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("serves");
    let base = format!("http://{}", server.local_addr());
    let http = reqwest::Client::new();

    let snap: serde_json::Value = http
        .get(format!("{base}/api/snapshot"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let listed = snap["actors"].as_array().expect("actors");
    let entry = listed
        .iter()
        .find(|a| a["pid"]["id"] == valve.pid().id())
        .expect("the valve is listed");
    assert_eq!(entry["kind"], "observer::Valve");
    assert_eq!(entry["handled"], 1);
    assert_eq!(
        entry["parent"]["id"],
        plant.supervisor().expect("runs").pid().id()
    );

    let one: serde_json::Value = http
        .get(format!("{base}/api/actors/{}", valve.pid().id()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(
        one["links"][0]["id"],
        plant.supervisor().expect("runs").pid().id()
    );
    assert_eq!(one["can_kill"], false);

    let refused = http
        .post(format!("{base}/api/actors/{}/kill", valve.pid().id()))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("allow_kill(true)")
    );
    assert!(valve.is_alive());

    let missing = http
        .get(format!("{base}/api/actors/999999999"))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), 404);
    let bad = http
        .get(format!("{base}/api/actors/<0.1>"))
        .send()
        .await
        .expect("answers");
    assert_eq!(bad.status(), 404);
}
