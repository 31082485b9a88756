import ArgumentParser
import DabbaPipeline

extension PipelineOptions {
    /// The circuit breaker settings `--breaker` gives, each applied over the pipeline's declaration of that breaker.
    /// - Parameter pipeline: The pipeline, whose declared breakers the options tune.
    /// - Returns: The changed settings by breaker name.
    /// - Throws: `ValidationError` naming the `--breaker` value and what is wrong with it: malformed, an unknown key or
    ///   a bad value, a breaker given twice, or a breaker the pipeline does not declare.
    public func resolvedBreakers(for pipeline: Pipeline) throws -> [String: CircuitBreakerConfiguration] {
        let declared = pipeline.declaredBreakers
        var resolved: [String: CircuitBreakerConfiguration] = [:]
        for text in breakers {
            let (name, settings) = try Self.breakerSettings(text)
            guard let base = declared[name] else {
                let known = declared.keys.sorted()
                throw ValidationError(
                    "--breaker \(text): \(pipeline.service) declares no circuit breaker named '\(name)' ("
                        + (known.isEmpty ? "it declares none" : "declared: \(known.joined(separator: ", "))")
                        + "); breakers are declared in code with pipeline.breaker(_:_:)"
                )
            }
            guard resolved[name] == nil else { throw ValidationError("--breaker \(name) is given twice") }
            resolved[name] = try Self.breakerResult(text) { try base.applying(settings) }
        }
        return resolved
    }

    /// Checks each `--breaker` value's syntax and settings, before the pipeline's declarations are known.
    func validateBreakers() throws {
        var names: Set<String> = []
        for text in breakers {
            let (name, settings) = try Self.breakerSettings(text)
            guard names.insert(name).inserted else { throw ValidationError("--breaker \(name) is given twice") }
            _ = try Self.breakerResult(text) {
                try CircuitBreakerConfiguration().applying(settings, checkingConsistency: false)
            }
        }
    }

    private static func breakerSettings(_ text: String) throws -> (name: String, settings: String) {
        try breakerResult(text) { try CircuitBreakerConfiguration.namedSettings(text) }
    }

    private static func breakerResult<Value>(_ text: String, _ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let error as PipelineError {
            throw ValidationError("--breaker \(text): \(error.message)")
        }
    }
}
