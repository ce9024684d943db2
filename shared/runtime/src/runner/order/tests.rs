//! Unit tests of per-key ordering.

use std::time::Duration;

use super::*;

fn at(key: i64, rank: i64) -> Option<Order> {
    Some(Order { key, rank })
}

async fn goes(p: &mut Place) -> bool {
    tokio::time::timeout(Duration::from_millis(200), p.ready())
        .await
        .is_ok()
}

#[tokio::test]
async fn one_at_a_time_per_key_other_keys_in_parallel() {
    let chains = Arc::new(Chains::default());
    let mut first = chains.place(at(1, 10));
    let mut second = chains.place(at(1, 11));
    let mut other = chains.place(at(2, 5));
    assert!(!first.waits());
    assert!(!other.waits(), "another key never waits");
    assert!(second.waits());
    drop(first);
    assert!(goes(&mut second).await);
    drop((second, other));
    assert!(chains.keys.lock().unwrap().is_empty(), "cleaned up");
}

#[tokio::test]
async fn a_parked_first_keeps_the_rest_waiting_but_an_older_newcomer_goes() {
    let chains = Arc::new(Chains::default());
    let mut u2 = chains.place(at(7, 2));
    let mut u3 = chains.place(at(7, 3));
    assert!(!u2.waits());
    u2.park();
    assert!(u3.waits(), "no herd: the one behind a parked first waits");
    // The older update comes back (a retry): it goes while u2 sleeps.
    let mut u1 = chains.place(at(7, 1));
    assert!(
        !u1.waits(),
        "an older newcomer is never queued behind a parked one"
    );
    u2.resume();
    assert!(u2.waits(), "u1 is being handled");
    drop(u1);
    assert!(goes(&mut u2).await, "then the parked one, first again");
    assert!(u3.waits());
    drop(u2);
    assert!(goes(&mut u3).await);
}

#[tokio::test]
async fn a_newcomer_waits_for_a_running_message_even_when_older() {
    let chains = Arc::new(Chains::default());
    let mut running = chains.place(at(9, 5));
    assert!(!running.waits());
    let mut older = chains.place(at(9, 4));
    assert!(older.waits(), "one at a time");
    running.park();
    assert!(goes(&mut older).await, "goes when the running one parks");
    running.resume();
    assert!(running.waits());
    drop(older);
    assert!(goes(&mut running).await);
}
