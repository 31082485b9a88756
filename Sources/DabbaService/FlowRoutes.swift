import DabbaHTTP
import DabbaPipeline
import Foundation
import Logging
import Synchronization

/// The flow-control routes of a service's health and metrics endpoint:
/// - `POST /pause[?reason=TEXT]`: pauses the instance's whole consumer group, as `dabba group pause` does (a record
///   on the control topic, which every instance follows);
/// - `POST /resume[?reason=TEXT]`: resumes it;
/// - `GET /flow`: what holds this instance back (``FlowStatus`` as JSON).
///
/// Other methods get `405`. Without a control topic (`--control-topic off`) `POST` gets `409`.
enum FlowRoutes {
    /// How long a `POST` waits for the broker to acknowledge the control record.
    static let publishTimeout = Duration.seconds(5)

    static func routes(for runner: PipelineRunner, instance: String, logger: Logger) -> [ServiceRoute] {
        let group = runner.pipeline.groupID
        let by = "\(runner.pipeline.service)/\(instance)@\(ProcessInfo.processInfo.hostName) (HTTP)"
        let control = runner.configuration.controlTopic.map {
            ControlTopic(name: $0, client: runner.configuration.client, logger: logger)
        }
        func change(paused: Bool) -> ServiceRoute {
            ServiceRoute(path: paused ? "/pause" : "/resume", methods: ["POST"]) { request in
                guard let control else {
                    return .init(status: 409, body: "operator pauses are off for this instance (--control-topic off)\n")
                }
                let state = OperatorPauseState(paused: paused, reason: request.query["reason"], by: by)
                if let failure = await withinTimeout(publishTimeout, { try await control.publish(state, group: group) }) {
                    return .init(
                        status: 503, body: "could not write to the control topic \(control.name): \(failure)\n"
                    )
                }
                logger.notice("group \(group) \(paused ? "paused" : "resumed") through HTTP: \(state.summary)")
                return .init(status: 200, body: "\(paused ? "paused" : "resumed") group \(group): \(state.summary)\n")
            }
        }
        let flow = ServiceRoute(path: "/flow", methods: ["GET"]) { _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? encoder.encode(runner.flowStatus)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return .init(status: 200, body: body + "\n", contentType: "application/json")
        }
        return [change(paused: true), change(paused: false), flow]
    }

    /// Waits for `work` at most `timeout`; returns why it failed or did not finish, or nil. Work that outlasts the
    /// timeout goes on (a control record may still be acknowledged): the answer only stops waiting for it.
    private static func withinTimeout(
        _ timeout: Duration, _ work: @escaping @Sendable () async throws -> Void
    ) async -> String? {
        await withCheckedContinuation { continuation in
            let answered = Mutex(false)
            let answer: @Sendable (String?) -> Void = { outcome in
                let first = answered.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: outcome) }
            }
            Task {
                do {
                    try await work()
                    answer(nil)
                } catch {
                    answer("\(error)")
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                answer("no acknowledgement within \(timeout)")
            }
        }
    }
}
