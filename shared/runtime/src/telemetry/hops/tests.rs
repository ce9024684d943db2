//! The per-hop clock's unit tests: parts summed once when nested, a dropped part counted, nothing
//! kept outside a measured handler; the queue wait read from the header.

use super::*;

#[tokio::test]
async fn parts_are_summed_and_nested_parts_count_once() {
    let (work, clock) = measure(async {
        part(Part::Commit, async {
            add(Part::Sql, Duration::from_millis(3));
            part(Part::Publish, tokio::time::sleep(Duration::from_millis(5))).await;
        })
        .await;
        add(Part::Sql, Duration::from_millis(2));
        part(Part::Outside, tokio::time::sleep(Duration::from_millis(4))).await;
        // A part dropped before it ends is counted too.
        let dropped = part(Part::Nats, tokio::time::sleep(Duration::from_secs(60)));
        let _ = tokio::time::timeout(Duration::from_millis(2), dropped).await;
        add(Part::Sql, Duration::from_millis(1));
    });
    work.await;
    assert_eq!(clock.spent(Part::Sql), Duration::from_millis(3));
    assert!(clock.spent(Part::Nats) >= Duration::from_millis(2));
    assert_eq!(clock.spent(Part::Publish), Duration::ZERO);
    assert!(!clock.entered(Part::Publish) && clock.entered(Part::Commit));
    assert!(clock.spent(Part::Commit) >= Duration::from_millis(5));
    assert!(clock.spent(Part::Outside) >= Duration::from_millis(4));
    // Outside a measured handler nothing is kept and nothing fails.
    add(Part::Sql, Duration::from_millis(1));
    part(Part::Sql, async {}).await;
}

#[test]
fn queue_wait_from_the_header() {
    let now = published_now();
    assert!(since_published(Some(&now)).unwrap() < Duration::from_secs(1));
    let ahead = (micros(SystemTime::now()) + 5_000_000).to_string();
    assert_eq!(since_published(Some(&ahead)), Some(Duration::ZERO));
    assert_eq!(since_published(Some("soon")), None);
    assert_eq!(since_published(None), None);
}
