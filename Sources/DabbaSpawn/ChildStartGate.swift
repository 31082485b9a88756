#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps work that must see a closed socket really closed apart from the start of a child process.
///
/// Starting a child (`posix_spawn`, like `fork`) copies this process's descriptor table, and the copy holds every
/// open file until the child calls `exec`. A socket another thread closes meanwhile is not closed: it stays open,
/// bound and listening in the copy for that moment. librdkafka's embedded broker depends on the opposite when it
/// takes a broker down: it closes the listening socket and at once binds a new one to the same port, asserting that
/// the bind succeeds; a child started at that moment made the bind fail and aborted the whole process.
///
/// ``SpawnedProcess`` starts children under the gate's shared side, so they may start together; such work runs
/// under its exclusive side, between starts.
public enum ChildStartGate {
    private static let lock = ReadersWriterLock()

    /// Runs `body` while no ``SpawnedProcess`` is being started (it waits for starts under way, and holds new ones
    /// back until `body` returns). Keep `body` short: starts wait for it.
    public static func whileNoChildStarts<Result>(_ body: () throws -> Result) rethrows -> Result {
        try lock.writing(body)
    }

    /// Runs `body`, which starts a child, outside any ``whileNoChildStarts(_:)``.
    static func startingChild<Result>(_ body: () throws -> Result) rethrows -> Result {
        try lock.reading(body)
    }
}

/// A `pthread_rwlock_t` with a stable address (a Swift value may move; a pthread lock must not).
private final class ReadersWriterLock: @unchecked Sendable {
    // Only touched through pthread_rwlock_* calls, which synchronize.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func reading<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func writing<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
