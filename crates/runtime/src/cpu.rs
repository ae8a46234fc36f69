//! CPU-bound work off the async threads, at most one piece per core at a time.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Slots for CPU-bound work: one per core. The consumer and the gRPC service of a process share
/// them, so an analysis never waits behind more analyses than the machine can run at once.
#[derive(Clone, Debug)]
pub struct CpuSlots {
    slots: Arc<Semaphore>,
    count: usize,
}

/// The work could not run to its end: it panicked (a bug), or the slots were closed.
#[derive(Debug, thiserror::Error)]
#[error("the task on a CPU slot failed: {0}")]
pub struct TaskFailed(String);

impl CpuSlots {
    /// One slot per core.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores)
    }

    /// `slots` slots (at least one).
    pub fn new(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            count: slots.max(1),
        }
    }

    /// How many pieces of work run at once.
    pub fn slots(&self) -> usize {
        self.count
    }

    /// Runs `work` for a gRPC call: `refused` turns its error into the caller's status
    /// (`INVALID_ARGUMENT`, `DEADLINE_EXCEEDED`), a task that failed is the server's
    /// (`INTERNAL`).
    pub async fn serve<T, E, F>(
        &self,
        work: F,
        refused: fn(E) -> tonic::Status,
    ) -> Result<T, tonic::Status>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        self.run(work)
            .await
            .map_err(|error| tonic::Status::internal(error.to_string()))?
            .map_err(refused)
    }

    /// Runs `work` on a blocking thread once a slot is free, and returns what it returned.
    pub async fn run<T, F>(&self, work: F) -> Result<T, TaskFailed>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|error| TaskFailed(error.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| TaskFailed(error.to_string()))
    }
}
