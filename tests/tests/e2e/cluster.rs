//! The system on a three-node NATS cluster run from `infra/nats/node.conf` (which
//! `nats-server -t` accepts), nodes joined by authenticated routes: streams and buckets with
//! three replicas declared by `migrate` as `admin`, every write fsynced before it is
//! acknowledged, each function connected as its own user. A function's user cannot publish
//! outside its permissions (the publish fails), cannot read another function's inbox (where
//! JetStream delivers what that function pulls), cannot update a stream or widen its consumer's
//! filter; the node leading
//! the jobs stream is killed while users are mid-conversation, and every turn is still
//! answered exactly once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures::StreamExt;
use futures::future::join_all;
use standins::harness::wait_for;
use standins::llm::answer_for;
use standins::nats::{NatsServer, password};
use standins::system::System;

use crate::helpers::{Chat, settle};

const CHATS: i64 = 6;
const TURNS: usize = 6;

fn text(chat: i64, turn: usize) -> String {
    format!("turn {turn} from {chat}")
}

async fn converse(chat: &Chat<'_>, turns: std::ops::Range<usize>) -> Duration {
    let mut slowest = Duration::ZERO;
    for t in turns {
        let started = Instant::now();
        chat.turn(&text(chat.user.id, t)).await;
        slowest = slowest.max(started.elapsed());
    }
    slowest
}

/// A connection as function `user` with its own inbox prefix, and the server's refusals.
async fn connect_as(user: &str, url: &str) -> (async_nats::Client, Arc<Mutex<Vec<String>>>) {
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let seen = refusals.clone();
    let client = async_nats::ConnectOptions::new()
        .user_and_password(user.into(), password(user))
        .custom_inbox_prefix(runtime::nats::broker::inbox_prefix(user))
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    seen.lock().unwrap().push(e.to_string());
                }
            }
        })
        .connect(url)
        .await
        .unwrap();
    (client, refusals)
}

/// fn-image receives on its own inbox; subscribing to fn-reply's is refused and gets nothing.
async fn inboxes_are_private(
    image: &async_nats::Client,
    refusals: &Mutex<Vec<String>>,
    admin: &jetstream::Context,
) {
    let mut own = image.subscribe("_INBOX_fn-image.probe").await.unwrap();
    let mut theirs = image.subscribe("_INBOX_fn-reply.>").await.unwrap();
    image.flush().await.unwrap();
    let admin = admin.client();
    // The two clients may sit on different nodes: interest reaches the admin's node over the
    // routes a moment later, so the probes are sent until fn-image's own one arrives.
    let mut got = None;
    for _ in 0..50 {
        for (subject, body) in [
            ("_INBOX_fn-reply.probe", "secret"),
            ("_INBOX_fn-image.probe", "mine"),
        ] {
            admin.publish(subject, body.into()).await.unwrap();
        }
        admin.flush().await.unwrap();
        if let Ok(m) = tokio::time::timeout(Duration::from_millis(200), own.next()).await {
            got = m;
            break;
        }
    }
    assert_eq!(got.expect("fn-image's own inbox").payload.as_ref(), b"mine");
    let stolen = tokio::time::timeout(Duration::from_secs(1), theirs.next()).await;
    assert!(
        !matches!(stolen, Ok(Some(_))),
        "fn-image read fn-reply's inbox"
    );
    wait_for("the subscription refusal", Duration::from_secs(5), || {
        let found = refusals
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.contains("Subscription") && e.contains("_INBOX_fn-reply"));
        async move { found.then_some(()) }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_three_node_cluster_a_lost_node_loses_and_doubles_nothing() {
    let nats = NatsServer::cluster().unwrap();
    nats.check_config().unwrap();
    let admin = jetstream::new(nats.client().await.unwrap());
    wait_for("JetStream on the cluster", Duration::from_secs(30), || {
        let js = admin.clone();
        async move { js.query_account().await.ok().map(|_| ()) }
    })
    .await
    .unwrap();
    let same = |n: &str, d: &str| Ok((n.to_owned(), d.to_owned()));
    let sys = System::start_on("cluster", &[("NATS_REPLICAS", "3")], &same, nats)
        .await
        .unwrap();
    let mut jobs = admin.get_stream("JOBS").await.unwrap();
    assert_eq!(jobs.info().await.unwrap().config.num_replicas, 3);

    // fn-image's user may publish send jobs, not updates: the server refuses and the publish
    // fails instead of vanishing.
    let (image, refusals) = connect_as("fn-image", &sys.nats.node_url(0)).await;
    let image_js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(image.clone());
    let denied = match image_js.publish("updates.telegram.1", "{}".into()).await {
        Err(_) => true,
        Ok(ack) => ack.await.is_err(),
    };
    assert!(denied, "fn-image published to the updates stream");
    let mut updates = admin.get_stream("UPDATES").await.unwrap();
    assert_eq!(updates.info().await.unwrap().state.messages, 0);
    inboxes_are_private(&image, &refusals, &admin).await;
    // Nor may it change a stream (shorter limits would purge it): only `admin` (migrate) may.
    let mut config = jobs.info().await.unwrap().config.clone();
    config.max_age = Duration::from_secs(1);
    assert!(
        image_js.update_stream(config).await.is_err(),
        "fn-image updated JOBS"
    );
    let kept = jobs.info().await.unwrap().config.max_age;
    assert_eq!(kept, Duration::from_secs(7 * 24 * 3600));
    assert!(
        refusals
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.contains("STREAM.UPDATE.JOBS"))
    );
    // Its own consumer with a wider filter (every stage's jobs) is refused too: the create
    // subject it may use names its own filter.
    let wider = jetstream::consumer::pull::Config {
        durable_name: Some("fn-image".into()),
        filter_subject: "jobs.>".into(),
        ..Default::default()
    };
    let jobs_as_image = image_js.get_stream("JOBS").await.unwrap();
    assert!(jobs_as_image.create_consumer(wider).await.is_err());
    let own = jobs_as_image.consumer_info("fn-image").await.unwrap();
    assert_eq!(own.config.filter_subject, "jobs.image");
    let widened = refusals
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.contains("fn-image.jobs.>"));
    assert!(widened, "{:?}", refusals.lock().unwrap());

    let chats: Vec<Chat> = (0..CHATS).map(|i| Chat::new(&sys, 9300 + i)).collect();
    for chat in &chats {
        chat.open_dialog().await;
    }
    join_all(chats.iter().map(|c| converse(c, 0..1))).await;

    // Mid-stream: every user has turns in flight when the jobs stream's leader dies.
    let leader = jobs
        .info()
        .await
        .unwrap()
        .cluster
        .clone()
        .unwrap()
        .leader
        .unwrap();
    let node: usize = leader.trim_start_matches('n').parse::<usize>().unwrap() - 1;
    let started = Instant::now();
    let kill = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sys.nats.stop_node(node);
    };
    let (slowest, ()) = tokio::join!(join_all(chats.iter().map(|c| converse(c, 1..TURNS))), kill);
    let took = started.elapsed();
    settle(&sys).await;
    for chat in &chats {
        for t in 0..TURNS {
            let want = answer_for(&text(chat.user.id, t));
            assert_eq!(chat.count_text(&want), 1, "chat {} turn {t}", chat.user.id);
        }
    }
    let pool = sys.pool().await.unwrap();
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dead, 0);
    let new_leader = jobs.info().await.unwrap().cluster.clone().unwrap().leader;
    assert_ne!(new_leader.as_deref(), Some(leader.as_str()));
    eprintln!(
        "cluster: {} turns after killing {leader} took {:.1} s; slowest turn {:.1} s",
        CHATS as usize * (TURNS - 1),
        took.as_secs_f64(),
        slowest.iter().max().unwrap().as_secs_f64()
    );
    // The node comes back and catches up.
    sys.nats.resume_node(node).unwrap();
    wait_for("the node to rejoin", Duration::from_secs(30), || {
        let (admin, leader) = (admin.clone(), leader.clone());
        async move {
            let mut s = admin.get_stream("JOBS").await.ok()?;
            let c = s.info().await.ok()?.cluster.clone()?;
            c.replicas
                .iter()
                .any(|r| r.name == leader && r.current)
                .then_some(())
        }
    })
    .await
    .unwrap();
}
