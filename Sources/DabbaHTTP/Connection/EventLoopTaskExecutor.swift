import NIOCore

/// Runs the server's tasks on NIO's event loop threads rather than on Swift's cooperative thread pool.
///
/// Hummingbird serves each connection in a task, and those tasks would otherwise wait for a free thread of the
/// cooperative pool: a service whose pipeline keeps the pool busy (two threads on a two-core machine) would answer
/// its health probes late, or not within the orchestrator's timeout. ``ServiceHTTPServer/run()`` runs the application
/// with this executor as its task executor preference, which every child task inherits (the per-connection tasks
/// included), so the server keeps working while the pool is saturated.
///
/// Jobs go to the group's loops in turn (a task executor need not be serial: a task's jobs never run at once).
final class EventLoopTaskExecutor: TaskExecutor {
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        group.next().execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
