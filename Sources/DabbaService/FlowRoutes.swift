import DabbaMetrics
import DabbaPipeline
import Dispatch
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
    /// How long a `POST` waits for the broker to acknowledge the control record (the server's thread waits).
    static let publishTimeout = Duration.seconds(5)

    static func routes(for runner: PipelineRunner, instance: String, logger: Logger) -> [MetricsServerRoute] {
        let group = runner.pipeline.groupID
        let by = "\(runner.pipeline.service)/\(instance)@\(ProcessInfo.processInfo.hostName) (HTTP)"
        let control = runner.configuration.controlTopic.map {
            ControlTopic(name: $0, client: runner.configuration.client, logger: logger)
        }
        func change(paused: Bool) -> MetricsServerRoute {
            MetricsServerRoute(path: paused ? "/pause" : "/resume", methods: ["POST"]) { request in
                guard let control else {
                    return .init(status: 409, body: "operator pauses are off for this instance (--control-topic off)\n")
                }
                let state = OperatorPauseState(paused: paused, reason: request.query["reason"], by: by)
                if let failure = waitFor(publishTimeout, { try await control.publish(state, group: group) }) {
                    return .init(
                        status: 503, body: "could not write to the control topic \(control.name): \(failure)\n"
                    )
                }
                logger.notice("group \(group) \(paused ? "paused" : "resumed") through HTTP: \(state.summary)")
                return .init(status: 200, body: "\(paused ? "paused" : "resumed") group \(group): \(state.summary)\n")
            }
        }
        let flow = MetricsServerRoute(path: "/flow", methods: ["GET"]) { _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? encoder.encode(runner.flowStatus)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return .init(status: 200, body: body + "\n", contentType: "application/json")
        }
        return [change(paused: true), change(paused: false), flow]
    }

    /// Runs async work from the server's own thread (never the cooperative pool) and waits for it, up to `timeout`;
    /// returns why it failed, or nil.
    private static func waitFor(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> Void) -> String? {
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Task {
            do { try await work() } catch { failure.withLock { $0 = "\(error)" } }
            done.signal()
        }
        guard done.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .success else {
            return "no acknowledgement within \(timeout)"
        }
        return failure.withLock { $0 }
    }
}
