extension CircuitBreakerConfiguration {
    /// The settings names ``applying(_:)`` understands, in the order the documentation lists them.
    public static let settingNames = [
        "consecutive-failures", "failure-rate", "window", "min-calls", "open", "multiplier", "max-open", "jitter",
        "probes", "scope",
    ]

    /// Parses `NAME:KEY=VALUE,…` (the `--breaker` option): the breaker's name and its settings text.
    /// - Parameter text: The option's value.
    /// - Returns: The name and the settings after the colon (empty when there is none).
    /// - Throws: ``PipelineError`` (`configuration`) when the name is missing.
    public static func namedSettings(_ text: String) throws -> (name: String, settings: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0]).trimmingWhitespace
        guard !name.isEmpty, !name.contains("=") else {
            throw PipelineError(
                .configuration, "'\(text)' must start with the breaker's name: NAME:KEY=VALUE,… (e.g. bank:open=30s)"
            )
        }
        return (name, parts.count > 1 ? String(parts[1]) : "")
    }

    /// These settings changed by `KEY=VALUE,…` text: `consecutive-failures=N|off`, `failure-rate=P%|off`,
    /// `window=N`, `min-calls=N`, `open=DURATION`, `multiplier=X`, `max-open=DURATION`, `jitter=P%`, `probes=N`,
    /// `scope=partition|consumer`. Durations are `500ms`, `10s`, `5m` or `1h`; rates and jitter are a percentage
    /// (`50%`) or a fraction (`0.5`). Settings not named keep their value.
    /// - Parameter text: The settings, e.g. `consecutive-failures=5,failure-rate=50%,open=10s,scope=consumer`.
    /// - Returns: The changed settings.
    /// - Throws: ``PipelineError`` (`configuration`) naming the unknown key, the bad value, or the inconsistent
    ///   result (see ``problems``).
    public func applying(_ text: String) throws -> CircuitBreakerConfiguration {
        try applying(text, checkingConsistency: true)
    }

    /// ``applying(_:)``, optionally without checking the result's consistency (each value is still checked): how the
    /// options check `--breaker` before the breaker's declared settings are known.
    package func applying(_ text: String, checkingConsistency: Bool) throws -> CircuitBreakerConfiguration {
        var result = self
        var seen: Set<String> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = String(item).trimmingWhitespace
            if entry.isEmpty, text.trimmingWhitespace.isEmpty { continue }
            let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[0].isEmpty else {
                throw PipelineError(.configuration, "'\(entry)' is not KEY=VALUE")
            }
            let key = String(pair[0]).trimmingWhitespace
            let value = String(pair[1]).trimmingWhitespace
            guard seen.insert(key).inserted else { throw PipelineError(.configuration, "\(key) is given twice") }
            func bad(_ expected: String) -> PipelineError {
                PipelineError(.configuration, "\(key)=\(value): expected \(expected)")
            }
            /// A number of calls (or failures), at least 1.
            func count() throws -> Int {
                guard let count = Int(value), count >= 1 else { throw bad("a number of at least 1") }
                return count
            }
            /// A duration longer than 0.
            func duration() throws -> Duration {
                guard let duration = Self.duration(value), duration > .zero else {
                    throw bad("a duration such as 500ms, 10s, 5m or 1h")
                }
                return duration
            }
            switch key {
            case "consecutive-failures":
                result.consecutiveFailures = value == "off" ? nil : try count()
            case "failure-rate":
                if value == "off" {
                    result.failureRate = nil
                } else {
                    guard let rate = Self.fraction(value), rate > 0, rate <= 1 else {
                        throw bad("a percentage above 0% and at most 100% (e.g. 50%), or off")
                    }
                    result.failureRate = rate
                }
            case "window": result.window = try count()
            case "min-calls": result.minimumCalls = try count()
            case "probes": result.probes = try count()
            case "open": result.openDuration = try duration()
            case "max-open": result.maxOpenDuration = try duration()
            case "multiplier":
                guard let multiplier = Double(value), multiplier >= 1, multiplier.isFinite else {
                    throw bad("a number of at least 1 (e.g. 2)")
                }
                result.backoffMultiplier = multiplier
            case "jitter":
                guard let jitter = Self.fraction(value), jitter >= 0, jitter < 1 else {
                    throw bad("a percentage from 0% to below 100% (e.g. 20%)")
                }
                result.jitter = jitter
            case "scope":
                switch value {
                case "partition": result.scope = .partition
                case "consumer": result.scope = .consumer
                default: throw bad("partition or consumer")
                }
            default:
                throw PipelineError(
                    .configuration,
                    "unknown setting '\(key)' (known: \(Self.settingNames.joined(separator: ", ")))"
                )
            }
        }
        // A lone open period longer than the default cap raises the cap, rather than failing on a setting not given.
        if seen.contains("open"), !seen.contains("max-open"), result.maxOpenDuration < result.openDuration {
            result.maxOpenDuration = result.openDuration
        }
        if checkingConsistency, let problem = result.problems.first { throw PipelineError(.configuration, problem) }
        return result
    }

    /// `50%` as 0.5, or a plain fraction.
    static func fraction(_ text: String) -> Double? {
        let value = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
        return value.flatMap { $0.isFinite ? $0 : nil }
    }

    /// `500ms`, `10s`, `5m`, `1h`.
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            guard let value = Int64(text.dropLast(suffix.count)), value >= 0, value < Int64.max / milliseconds else {
                return nil
            }
            return .milliseconds(value * milliseconds)
        }
        return nil
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
