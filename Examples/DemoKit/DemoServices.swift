import Foundation

/// The services of a demo, each a child process: started together, waited for until they joined their consumer
/// groups, sent the demo's own SIGINT/SIGTERM, and stopped gracefully at the end.
public final class DemoServices: Sendable {
    /// The services, in start order.
    public let all: [ServiceProcess]

    /// Starts one process per service.
    /// - Parameters:
    ///   - names: The executables, in start order.
    ///   - logDirectory: Where each service's log goes (`<name>.log`).
    ///   - arguments: Each service's arguments.
    /// - Throws: ``ServiceProcessError`` when one cannot start (those already started are killed).
    public init(names: [String], logDirectory: String, arguments: (String) -> [String]) throws {
        var started: [ServiceProcess] = []
        do {
            for name in names {
                started.append(
                    try ServiceProcess(name: name, arguments: arguments(name), logPath: "\(logDirectory)/\(name).log"))
            }
        } catch {
            for service in started { service.send(SIGKILL) }
            throw error
        }
        all = started
    }

    /// Wraps services started elsewhere.
    /// - Parameter services: The services.
    public init(_ services: [ServiceProcess]) {
        all = services
    }

    /// The service with this executable name.
    public subscript(name: String) -> ServiceProcess? { all.first { $0.name == name } }

    /// Waits until every service logged a partition assignment (`partitions assigned`), or the timeout passed.
    /// - Parameter timeout: How long to wait.
    /// - Returns: The services still joining when the timeout passed (empty when all joined).
    /// - Throws: ``ServiceProcessError`` with the log of a service that exited at start.
    public func waitUntilJoined(timeout: Duration = .seconds(60)) async throws -> [String] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var pending = Set(all.map(\.name))
        while !pending.isEmpty, clock.now < deadline {
            for service in all where pending.contains(service.name) {
                if service.log.contains("partitions assigned") { pending.remove(service.name) }
                if !service.isRunning {
                    throw ServiceProcessError(
                        message: "\(service.name) exited at start; its log (\(service.logPath)):\n\(service.log)")
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return pending.sorted()
    }

    /// Prints each service's pid and log as notes of the current step.
    public func announce() {
        let width = (all.map(\.name.count).max() ?? 0) + 2
        for service in all {
            DemoConsole.note(
                "\(service.name.padding(toLength: width, withPad: " ", startingAt: 0))pid \(service.pid)  log \(service.logPath)")
        }
    }

    /// Waits until every service joined its group (see ``waitUntilJoined(timeout:)``) and says so.
    /// - Parameter waiting: What waits meanwhile (`orders`), for the note when some are still joining.
    public func waitUntilJoinedAnnounced(waiting: String) async throws {
        let joining = try await waitUntilJoined()
        DemoConsole.note(
            joining.isEmpty
                ? "every service joined its consumer group"
                : "still joining: \(joining.joined(separator: ", ")) (\(waiting) wait on the topic meanwhile)")
    }

    /// Forwards this process's SIGINT and SIGTERM to every service (whichever process each runs now), then exits
    /// with status 130. Cancel the handler when the demo stops its services itself.
    /// - Returns: The installed handler.
    public func forwardInterrupts() -> InterruptHandler {
        let services = all
        return InterruptHandler { for service in services { service.send(SIGTERM) } }
    }

    /// Stops every service gracefully (SIGTERM), in reverse start order, killing one that takes too long.
    /// - Parameter timeout: How long each may take.
    /// - Returns: Each service's exit status by name (-1 when it had to be killed).
    public func stopAll(timeout: Duration = .seconds(30)) async -> [String: Int32] {
        var statuses: [String: Int32] = [:]
        for service in all.reversed() {
            statuses[service.name] = await service.stop(timeout: timeout)
        }
        return statuses
    }
}

/// Forwards SIGINT/SIGTERM to a demo's children, then exits.
public final class InterruptHandler: Sendable {
    private let sources: [UnsafeSource]

    /// A dispatch signal source, cancelled from whichever thread calls ``cancel()``.
    private struct UnsafeSource: @unchecked Sendable {
        // @unchecked: DispatchSource is thread-safe; the protocol type just is not marked Sendable.
        let source: any DispatchSourceSignal
    }

    /// Installs the handler.
    /// - Parameter onSignal: What to do first (signal the children); the process then exits with status 130.
    public init(_ onSignal: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                onSignal()
                Thread.sleep(forTimeInterval: 2)
                exit(130)
            }
            source.resume()
            return UnsafeSource(source: source)
        }
    }

    /// Stops forwarding.
    public func cancel() { for source in sources { source.source.cancel() } }
}
