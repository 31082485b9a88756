import DabbaInbox

/// One example system at a time in a test process: each starts five or more processes, an embedded broker and an
/// observer, and several at once on a loaded two-core machine starve each other (and the in-process brokers) past
/// their session timeouts. The test targets of every example system share it (they run in one process).
package enum DemoSystemGate {
    /// The lock: acquire before starting a system, release after shutting it down.
    package static let lock = AsyncLock()
}
