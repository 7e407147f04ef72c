//! Password hashing with argon2id (the argon2 crate's default parameters:
//! 19 MiB of memory and two passes for every hash and every verification).

use std::num::NonZero;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::ServiceError;

/// Every hash and verification in the process passes through here. One at
/// a time per core: more at once would not finish sooner on the same cores,
/// they would only each hold their 19 MiB, so a burst of sign-ins queues
/// instead of growing the server by 19 MiB a request.
static HASHING: LazyLock<HashingGate> = LazyLock::new(|| {
    HashingGate::new(std::thread::available_parallelism().map_or(1, NonZero::get))
});

pub(crate) async fn hash(password: String) -> Result<String, ServiceError> {
    HASHING
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| ServiceError::Internal(anyhow::anyhow!("hashing: {error}")))
        })
        .await?
}

pub(crate) async fn verify(password: String, hash: String) -> Result<bool, ServiceError> {
    HASHING
        .run(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|error| ServiceError::Internal(anyhow::anyhow!("stored hash: {error}")))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
}

/// A hash of a random password, verified against when the user is unknown so
/// that a login for a missing user takes as long as one with a wrong
/// password.
pub(crate) const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$JgIiEJkhvVX0sb4hoDP+oLAK2ohBkmxLX3DY1pCjXac";

/// Runs CPU- and memory-heavy work on blocking threads, at most `limit` at
/// once; the rest wait for a turn in the order they came.
struct HashingGate {
    turns: Arc<Semaphore>,
    counts: Arc<Counts>,
}

/// What the gate is doing, counted so that tests can see the bound hold.
#[derive(Default)]
struct Counts {
    /// Work waiting for a turn.
    queued: AtomicUsize,
    /// Work running on a blocking thread now.
    running: AtomicUsize,
    /// The most that ever ran at once.
    most_running: AtomicUsize,
}

/// Takes one off a count when dropped, whether the work finished, panicked
/// or its caller gave up waiting.
struct Counted(Arc<Counts>, fn(&Counts) -> &AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashingGate {
    fn new(limit: usize) -> Self {
        HashingGate {
            turns: Arc::new(Semaphore::new(limit.max(1))),
            counts: Arc::default(),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.counts.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Counted(self.counts.clone(), |counts| &counts.queued);
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| ServiceError::Internal(error.into()))?;
        drop(queued);
        let counts = self.counts.clone();
        // The turn goes with the work: if the request that asked for it is
        // dropped, the work still runs to its end, and only then is the
        // turn (and the memory) handed on.
        tokio::task::spawn_blocking(move || {
            // Declared before the count, so dropped after it: the work
            // stops counting as running before its turn is handed on.
            let _turn = turn;
            let now_running = counts.running.fetch_add(1, Ordering::SeqCst) + 1;
            counts.most_running.fetch_max(now_running, Ordering::SeqCst);
            let _running = Counted(counts, |counts| &counts.running);
            work()
        })
        .await
        .map_err(|error| ServiceError::Internal(error.into()))
    }

    #[cfg(test)]
    fn count(&self, which: fn(&Counts) -> &AtomicUsize) -> usize {
        which(&self.counts).load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::RwLock;

    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = hash("correct horse".to_owned()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify("correct horse".to_owned(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse".to_owned(), hash).await.unwrap());
    }

    #[tokio::test]
    async fn the_decoy_hash_parses_and_matches_nothing_likely() {
        assert!(
            !verify("admin".to_owned(), DECOY_HASH.to_owned())
                .await
                .unwrap()
        );
    }

    /// Waits (up to 30 s) until `condition` holds.
    async fn until(condition: impl Fn() -> bool) {
        for _ in 0..30_000 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the condition did not hold within 30 s");
    }

    #[tokio::test]
    async fn no_more_than_the_limit_run_at_once_and_the_rest_wait_their_turn() {
        const LIMIT: usize = 3;
        const JOBS: usize = 20;
        let gate = Arc::new(HashingGate::new(LIMIT));
        // Every job blocks on this lock until the test lets go of it.
        let hold = Arc::new(RwLock::new(()));
        let held = hold.write().await;
        let jobs: Vec<_> = (0..JOBS)
            .map(|number| {
                let gate = gate.clone();
                let hold = hold.clone();
                tokio::spawn(async move {
                    gate.run(move || {
                        drop(hold.blocking_read());
                        number
                    })
                    .await
                })
            })
            .collect();

        // A job counts as queued until it has its turn and as running once
        // its work has begun on a blocking thread, so the two add up to
        // every job only when no job is between the two. Without the bound
        // that happens only once all of them run.
        until(|| gate.count(|c| &c.queued) + gate.count(|c| &c.running) == JOBS).await;
        assert_eq!(gate.count(|c| &c.running), LIMIT);
        assert_eq!(gate.count(|c| &c.queued), JOBS - LIMIT);

        drop(held);
        for (number, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap().unwrap(), number);
        }
        assert_eq!(gate.count(|c| &c.most_running), LIMIT);
        assert_eq!(gate.count(|c| &c.running), 0);
        assert_eq!(gate.count(|c| &c.queued), 0);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_waiting_leaves_the_queue() {
        let gate = Arc::new(HashingGate::new(1));
        let hold = Arc::new(RwLock::new(()));
        let held = hold.write().await;
        let first = {
            let (gate, hold) = (gate.clone(), hold.clone());
            tokio::spawn(async move { gate.run(move || drop(hold.blocking_read())).await })
        };
        until(|| gate.count(|c| &c.running) == 1).await;
        let second = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| ()).await })
        };
        until(|| gate.count(|c| &c.queued) == 1).await;
        second.abort();
        assert!(second.await.unwrap_err().is_cancelled());
        assert_eq!(gate.count(|c| &c.queued), 0);
        drop(held);
        first.await.unwrap().unwrap();
        assert_eq!(gate.count(|c| &c.running), 0);
    }

    #[tokio::test]
    async fn password_checks_go_through_the_process_wide_bound() {
        let limit = std::thread::available_parallelism().map_or(1, NonZero::get);
        let mut checks = tokio::task::JoinSet::new();
        for _ in 0..2 * limit {
            checks.spawn(verify("admin".to_owned(), DECOY_HASH.to_owned()));
        }
        while let Some(matched) = checks.join_next().await {
            assert!(!matched.unwrap().unwrap());
        }
        let most = HASHING.count(|c| &c.most_running);
        assert!(
            (1..=limit).contains(&most),
            "{most} ran at once, limit {limit}"
        );
    }
}
