import ArgumentParser
import DabbaPipeline
import DabbaService

/// Options every example service takes besides the standard ``PipelineOptions``.
public struct DemoServiceOptions: ParsableArguments, Sendable {
    /// The consumer session timeout: how long the group waits for a vanished member before reassigning its
    /// partitions. Short values make restarts and rebalances quick on a development machine.
    @Option(
        name: .customLong("session-timeout"), help: "Consumer session timeout, e.g. 6s (default: librdkafka's 45s).")
    public var sessionTimeout: String?

    /// How long a fetch may wait at the broker for records (librdkafka's `fetch.wait.max.ms`, default 500 ms).
    /// Kafka answers a waiting fetch as soon as records arrive; the embedded broker holds it for the whole wait, so
    /// every hop of a pipeline on it waits up to that long. The demos and tests pass a short one.
    @Option(
        name: .customLong("fetch-wait"), help: "The longest a fetch waits at the broker for records, e.g. 20ms (default: librdkafka's 500ms).")
    public var fetchWait: String?

    /// Creates options with defaults.
    public init() {}

    /// Applies the options to a pipeline's runtime settings.
    /// - Parameter configuration: The settings PipelineService derived from the standard options.
    public func apply(to configuration: inout PipelineConfiguration) {
        // Quick metadata refreshes so services started before the topics exist (or before a rebalance) catch up.
        configuration.consumerProperties["topic.metadata.refresh.interval.ms"] = "2000"
        // A batch commits once the broker acknowledged what its handlers emitted; with no linger those events
        // leave at once, so a lightly loaded service adds one round trip per batch rather than a linger period.
        configuration.producerProperties["linger.ms"] = "0"
        if let milliseconds = Self.milliseconds(fetchWait) {
            configuration.consumerProperties["fetch.wait.max.ms"] = String(milliseconds)
        }
        if let milliseconds = sessionTimeoutMilliseconds {
            configuration.consumerProperties["session.timeout.ms"] = String(milliseconds)
            configuration.consumerProperties["heartbeat.interval.ms"] = String(max(100, milliseconds / 6))
        }
    }

    /// Refuses standard options an example service cannot honour: it keeps its state in the inbox database, so it
    /// needs an inbox, and `--exactly-once` (which runs handlers without the inbox's transaction) would leave it
    /// without its store.
    /// - Parameters:
    ///   - options: The parsed standard options.
    ///   - system: The example system, for the message (`food-delivery`).
    /// - Throws: `ValidationError` naming the option.
    public func check(_ options: PipelineOptions, system: String) throws {
        if options.inbox == "none" {
            throw ValidationError("--inbox none: the \(system) services keep their state in the inbox database")
        }
        if options.exactlyOnce {
            throw ValidationError(
                "--exactly-once: the \(system) services need the inbox's transaction for their state; "
                    + "their effects are exactly-once through the inbox and deterministic event ids"
            )
        }
    }

    var sessionTimeoutMilliseconds: Int? { Self.milliseconds(sessionTimeout) }

    /// `6s`, `6000ms` or `1m` in milliseconds (nil when absent or malformed).
    static func milliseconds(_ text: String?) -> Int? {
        guard let text else { return nil }
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Int(text.dropLast(suffix.count)), value >= 0 { return value * factor }
        }
        return nil
    }

    public mutating func validate() throws {
        if sessionTimeout != nil, sessionTimeoutMilliseconds == nil {
            throw ValidationError("--session-timeout must look like 6s or 6000ms, not '\(sessionTimeout ?? "")'")
        }
        if fetchWait != nil, Self.milliseconds(fetchWait) == nil {
            throw ValidationError("--fetch-wait must look like 20ms or 1s, not '\(fetchWait ?? "")'")
        }
    }
}
