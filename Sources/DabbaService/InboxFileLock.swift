import DabbaPipeline
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on `<inbox path>.lock`, held while the service runs, so that two processes
/// never share one SQLite inbox file (SQLite's write lock is not fair between processes, and deduplication would
/// silently span two instances). The kernel releases the lock when the process exits, even on a crash.
final class InboxFileLock: Sendable {
    /// The lock file's path.
    let path: String
    private let descriptor: Int32

    /// Takes the lock without waiting.
    /// - Parameter inboxPath: The SQLite inbox file the lock guards.
    /// - Throws: ``PipelineError`` (`.configuration`) when another process holds the lock or the lock file cannot be
    ///   opened.
    init(inboxPath: String) throws {
        path = inboxPath + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw PipelineError(
                .configuration, "cannot open the inbox lock file \(path): \(String(cString: strerror(errno)))"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(descriptor)
            if reason == EWOULDBLOCK {
                throw PipelineError(
                    .configuration,
                    "the SQLite inbox \(inboxPath) is in use by another instance (locked via \(path)): give each instance its own --instance-id, or its own --inbox"
                )
            }
            throw PipelineError(.configuration, "cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        // Closing the descriptor releases the flock.
        close(descriptor)
    }
}
